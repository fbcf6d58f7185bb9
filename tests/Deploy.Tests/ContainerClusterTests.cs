using System.Text.Json;
using KmsCluster.Testing;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// Three kms-node containers of the image and PostgreSQL form one cluster: one activation through each node
/// (one window, so the counts follow each other), a node stopped with SIGTERM and started again with its volume.
/// The containers share the host's network, so PostgreSQL is the harness's private server on 127.0.0.1 and
/// the nodes use loopback ports of their own; everything else is as in production: settings by KMS_*
/// variables only, the licence mounted read-only, the data in named volumes, health by the image's HEALTHCHECK.
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class ContainerClusterTests(ContainerImages images, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Product = "windows-server-2019-standard";
    private const int Size = 3;
    private readonly Guid _cmidBase = Guid.NewGuid();
    private readonly int[] _listen = FreePorts.Take(Size);
    private readonly int[] _admin = FreePorts.Take(Size);
    private readonly int[] _cluster = FreePorts.Take(Size);
    private PostgresServer? _postgres;
    private int _activations;

    private string Name(int i) => $"{images.RunId}-node{i + 1}";

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            var logs = await Podman.RunAsync("logs", "--tail", "15", Name(i));
            output.WriteLine($"--- {Name(i)} (last lines)\n{logs.StdOut}{logs.StdErr}");
            await Podman.RunAsync("rm", "--force", "--time", "5", Name(i));
            await Podman.RunAsync("volume", "rm", "--force", Name(i));
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
            await WaitHealthyAsync(i);
        }
        await WaitMembersUpAsync(0, Size);

        // One window across the cluster: each node's answer counts the machines the others saw.
        for (var i = 0; i < Size; i++)
        {
            Assert.Equal(i + 1, await ActivateAsync(i));
        }
        var nodeId = await ExecAsync(2, "cat", "/var/lib/kms/node-id");

        // SIGTERM (the image's STOPSIGNAL): the node drains, leaves the cluster and exits 0; the others serve on.
        (await Podman.RunAsync(["stop", "--time", "30", Name(2)], TimeSpan.FromMinutes(1))).OrThrow("podman stop");
        var state = await Podman.RunAsync("inspect", "--format", "{{.State.ExitCode}} {{.State.Status}}", Name(2));
        Assert.Equal("0 exited", state.StdOut.Trim());
        Assert.Contains("stopped", (await Podman.RunAsync("logs", "--tail", "3", Name(2))).StdOut + (await Podman.RunAsync("logs", "--tail", "3", Name(2))).StdErr);
        await WaitMembersUpAsync(0, Size - 1);
        Assert.Equal(4, await ActivateAsync(0));

        // Started again: same volume, same node id, back in the cluster and in the window.
        (await Podman.RunAsync("start", Name(2))).OrThrow("podman start");
        await WaitHealthyAsync(2);
        Assert.Equal(nodeId, await ExecAsync(2, "cat", "/var/lib/kms/node-id"));
        await WaitMembersUpAsync(0, Size);
        Assert.Equal(5, await ActivateAsync(2));
    }

    private async Task StartContainerAsync(int i)
    {
        var seeds = string.Join(',', _cluster.Take(2).Select(p => $"127.0.0.1:{p}"));
        string[] run =
        [
            // Read-only but for the volume and /tmp, as deploy/kubernetes runs it (readOnlyRootFilesystem).
            "run", "--detach", "--name", Name(i), .. Podman.LimitArgs, "--network", "host", "--read-only", "--tmpfs", "/tmp",
            "--volume", $"{Name(i)}:/var/lib/kms", "--volume", $"{DemoLicence.Directory}:/etc/kmscluster:ro",
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

    /// <summary>Until the image's own HEALTHCHECK (GET /healthz with the admin token) passes.</summary>
    private async Task WaitHealthyAsync(int i)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        PodmanResult check;
        while ((check = await Podman.RunAsync("healthcheck", "run", Name(i))).ExitCode != 0)
        {
            var state = await Podman.RunAsync("inspect", "--format", "{{.State.Status}}", Name(i));
            if (state.StdOut.Trim() != "running" || DateTime.UtcNow > deadline)
            {
                var logs = await Podman.RunAsync("logs", "--tail", "30", Name(i));
                Assert.Fail($"{Name(i)} not healthy ({state.StdOut.Trim()}): {check.StdOut}{check.StdErr}\n{logs.StdOut}{logs.StdErr}");
            }
            await Task.Delay(1000);
        }
        output.WriteLine($"{Name(i)}: healthy");
    }

    /// <summary>Until node <paramref name="i"/> sees <paramref name="count"/> members Up (kms status inside the container).</summary>
    private async Task WaitMembersUpAsync(int i, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            // The admin token from the node's data directory, as an operator inside the container finds it.
            var status = await Podman.RunAsync("exec", Name(i), "kms", "status", "--admin", $"127.0.0.1:{_admin[i]}", "--data", "/var/lib/kms", "--json");
            seen = status.StdOut + status.StdErr;
            if (status.StdOut.TrimStart().StartsWith('{') &&
                JsonDocument.Parse(status.StdOut).RootElement.GetProperty("cluster") is { ValueKind: JsonValueKind.Object } cluster)
            {
                var members = cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()).ToList();
                seen = string.Join(", ", members);
                if (members.Count == count && members.All(s => s == "Up")) return;
            }
            await Task.Delay(1000);
        }
        Assert.Fail($"{Name(i)} does not see {count} members Up: {seen}");
    }

    /// <summary>One machine's activation through node <paramref name="i"/> with the real kms client; the
    /// window's count in the answer. A node that has just started may not hold its host certificate yet.</summary>
    private async Task<int> ActivateAsync(int i)
    {
        var cmid = new Guid(_cmidBase.ToString()[..^4] + (++_activations).ToString("x4")).ToString();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var (exit, stdout, stderr) = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey,
                "--server", $"127.0.0.1:{_listen[i]}", "--product", Product, "--cmid", cmid, "--json");
            var answer = stdout.TrimStart().StartsWith('{') ? JsonDocument.Parse(stdout).RootElement : default;
            if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("count", out var count))
            {
                output.WriteLine($"activation {_activations} through {Name(i)}: exit {exit}, count {count}");
                return count.GetInt32();
            }
            if (DateTime.UtcNow > deadline) Assert.Fail($"no answer from {Name(i)}: exit {exit}: {stdout} {stderr}");
            await Task.Delay(1000);
        }
    }

    private async Task<string> ExecAsync(int i, params string[] command) =>
        (await Podman.RunAsync(["exec", Name(i), .. command])).OrThrow($"podman exec {Name(i)}").StdOut.Trim();
}
