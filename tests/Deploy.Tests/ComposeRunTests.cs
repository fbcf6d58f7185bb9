using System.Diagnostics;
using System.Text.Json.Nodes;
using KmsCluster.Testing;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// deploy/compose/compose.yaml brought up with podman-compose: PostgreSQL and three nodes on the compose
/// network find each other by service name and serve one window through their published ports. What cannot
/// be as in the file here is swapped in a copy of it, and only that: the images (the test's node image, and a
/// PostgreSQL made from Debian's packages for docker.io/library/postgres), the published host ports (free
/// ones), the container names (unique) and the licence directory (absolute).
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class ComposeRunTests(ContainerImages images, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly Dictionary<string, int> _activationPorts = [];
    private string Project => $"{images.RunId}compose";
    private string ComposeFile => Path.Combine(_work.Path, "compose.yaml");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var name in _activationPorts.Keys) await Node(name).WriteLogTailAsync();
        if (File.Exists(ComposeFile))
        {
            await ComposeAsync(TimeSpan.FromMinutes(2), "down", "--volumes");
            // podman-compose 1.0 leaves the project's network behind.
            await Podman.RunAsync("network", "rm", "--force", $"{Project}_default");
        }
        _work.Dispose();
    }

    private NodeContainer Node(string service) =>
        new($"{Project}-{service}", "127.0.0.1:8688", $"127.0.0.1:{_activationPorts[service]}", output);

    [Fact]
    public async Task The_compose_file_brings_up_PostgreSQL_and_three_nodes_that_serve_one_window()
    {
        var compose = Yaml.ReadOne(Repository.PathOf("deploy/compose/compose.yaml"))!.AsObject();
        var services = compose["services"]!.AsObject();
        services["postgres"]!["image"] = await images.PostgresImage;
        foreach (var (name, node) in services.Where(s => s.Key != "postgres").ToList())
        {
            var service = node!.AsObject();
            service.Remove("build");
            service["image"] = images.NodeImage;
            service["container_name"] = $"{Project}-{name}";
            _activationPorts[name] = FreePorts.Next();
            service["ports"] = new JsonArray($"127.0.0.1:{_activationPorts[name]}:1688", $"127.0.0.1:{FreePorts.Next()}:8688");
            service["volumes"] = new JsonArray(service["volumes"]!.AsArray().Select(v => (JsonNode?)JsonValue.Create(
                ((string)v!).Replace("../demo-licence:", Repository.PathOf("deploy/demo-licence") + ":"))).ToArray());
        }
        // JSON is YAML: the copy is written as JSON.
        await File.WriteAllTextAsync(ComposeFile, compose.ToJsonString());

        var up = await ComposeAsync(TimeSpan.FromMinutes(3), "up", "--detach");
        Assert.True(up.ExitCode == 0, $"podman-compose up: exit {up.ExitCode}\n{up.StdOut}\n{up.StdErr}");

        // podman-compose 1.0 starts the nodes without waiting for the database's health check: a node that
        // finds no database yet exits, and its restart policy (unless-stopped) brings it back.
        var nodes = _activationPorts.Keys.Order().ToList();
        foreach (var name in nodes) await Node(name).WaitHealthyAsync(mayRestart: true);
        await Node(nodes[0]).WaitMembersUpAsync(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            Assert.Equal(i + 1, await Node(nodes[i]).ActivateAsync(Guid.NewGuid()));
        }
    }

    private async Task<PodmanResult> ComposeAsync(TimeSpan timeout, params string[] command)
    {
        var info = new ProcessStartInfo("podman-compose")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _work.Path,
        };
        // Podman's global options (runc on hybrid cgroups) and the run limits, as for every podman call here.
        foreach (var arg in Podman.GlobalArgs) info.ArgumentList.Add($"--podman-args={arg}");
        if (Podman.LimitArgs.Count > 0) info.ArgumentList.Add($"--podman-run-args={string.Join(' ', Podman.LimitArgs)}");
        foreach (var arg in new[] { "-p", Project, "-f", ComposeFile }.Concat(command)) info.ArgumentList.Add(arg);
        return await Podman.RunProcessAsync(info, timeout);
    }
}
