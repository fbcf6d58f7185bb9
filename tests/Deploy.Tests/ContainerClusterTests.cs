using KmsCluster.Testing;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// Three kms-node containers of the image and PostgreSQL form one cluster: one activation through each node
/// (one window, so the counts follow each other), a node stopped with SIGTERM and started again with its volume.
/// The containers share the host's network, so PostgreSQL is the harness's private server on 127.0.0.1 and
/// the nodes use loopback ports of their own; everything else is as in production: settings by KMS_*
/// variables only, the licence mounted read-only, the data in named volumes, a read-only root (as
/// deploy/kubernetes runs it), health by the image's HEALTHCHECK. ComposeRunTests runs the compose file.
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class ContainerClusterTests(ContainerImages images, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Size = 3;
    private readonly int[] _listen = FreePorts.Take(Size);
    private readonly int[] _admin = FreePorts.Take(Size);
    private readonly int[] _cluster = FreePorts.Take(Size);
    private PostgresServer? _postgres;

    private NodeContainer Node(int i) =>
        new($"{images.RunId}-node{i + 1}", $"127.0.0.1:{_admin[i]}", $"127.0.0.1:{_listen[i]}", output);

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            await Node(i).WriteLogTailAsync();
            await Podman.RunAsync("rm", "--force", "--time", "5", Node(i).Name);
            await Podman.RunAsync("volume", "rm", "--force", Node(i).Name);
        }
        if (_postgres is not null) await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Three_node_containers_and_PostgreSQL_serve_one_cluster_and_a_node_restarts_with_its_volume()
    {
        await _postgres!.CreateDatabaseAsync("kms");
        for (var i = 0; i < Size; i++)
        {
            await StartContainerAsync(i);
            await Node(i).WaitHealthyAsync();
        }
        await Node(0).WaitMembersUpAsync(Size);

        // One window across the cluster: each node's answer counts the machines the others saw.
        for (var i = 0; i < Size; i++)
        {
            Assert.Equal(i + 1, await Node(i).ActivateAsync(Guid.NewGuid()));
        }
        var nodeId = await Node(2).ExecAsync("cat", "/var/lib/kms/node-id");

        // SIGTERM (the image's STOPSIGNAL): the node drains, leaves the cluster and exits 0; the others serve on.
        (await Podman.RunAsync(["stop", "--time", "30", Node(2).Name], TimeSpan.FromMinutes(1))).OrThrow("podman stop");
        var state = await Podman.RunAsync("inspect", "--format", "{{.State.ExitCode}} {{.State.Status}}", Node(2).Name);
        Assert.Equal("0 exited", state.StdOut.Trim());
        var logs = await Podman.RunAsync("logs", "--tail", "3", Node(2).Name);
        Assert.Contains("stopped", logs.StdOut + logs.StdErr);
        await Node(0).WaitMembersUpAsync(Size - 1);
        Assert.Equal(4, await Node(0).ActivateAsync(Guid.NewGuid()));

        // Started again: same volume, same node id, back in the cluster and in the window.
        (await Podman.RunAsync("start", Node(2).Name)).OrThrow("podman start");
        await Node(2).WaitHealthyAsync();
        Assert.Equal(nodeId, await Node(2).ExecAsync("cat", "/var/lib/kms/node-id"));
        await Node(0).WaitMembersUpAsync(Size);
        Assert.Equal(5, await Node(2).ActivateAsync(Guid.NewGuid()));
    }

    private async Task StartContainerAsync(int i)
    {
        var seeds = string.Join(',', _cluster.Take(2).Select(p => $"127.0.0.1:{p}"));
        string[] run =
        [
            // Read-only but for the volume and /tmp, as deploy/kubernetes runs it (readOnlyRootFilesystem).
            "run", "--detach", "--name", Node(i).Name, .. Podman.LimitArgs, "--network", "host", "--read-only", "--tmpfs", "/tmp",
            "--volume", $"{Node(i).Name}:/var/lib/kms", "--volume", $"{DemoLicence.Directory}:/etc/kmscluster:ro",
            "--env", $"KMS_NAME=node{i + 1}",
            "--env", $"KMS_LISTEN=127.0.0.1:{_listen[i]}",
            "--env", $"KMS_ADMIN=127.0.0.1:{_admin[i]}",
            "--env", "KMS_CLUSTER_HOST=127.0.0.1",
            "--env", $"KMS_CLUSTER_PORT={_cluster[i]}",
            "--env", $"KMS_SEED={seeds}",
            "--env", $"KMS_DB={_postgres!.ConnectionString("kms")}",
            "--env", "KMS_AUTHORITY_KEY=/etc/kmscluster/authority.pub",
            "--env", "KMS_HOST_KEY=/etc/kmscluster/windows-server-2025.hostkey.json",
            "--env", "KMS_AUTHORITY_KEYS=/etc/kmscluster",
            images.NodeImage,
        ];
        (await Podman.RunAsync(run, TimeSpan.FromMinutes(1))).OrThrow(Podman.Describe(run));
    }
}
