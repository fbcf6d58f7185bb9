using System.Net;
using System.Net.Sockets;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>--ready-file: the machine-readable ready signal, and the health endpoints beside /healthz.</summary>
public sealed class ReadyFileTests
{
    [Fact]
    public async Task A_started_node_writes_its_bound_endpoints_identity_and_journal_to_the_ready_file()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--name", "ready-one");

        var ready = node.Ready;
        Assert.Equal("ready-one", ready.HostName);
        Assert.Equal(node.ProcessId, ready.ProcessId);
        var activation = IPEndPoint.Parse(Assert.Single(ready.ActivationEndpoints));
        Assert.Equal(IPAddress.Loopback, activation.Address);
        Assert.NotEqual(0, activation.Port);
        Assert.NotEqual(0, IPEndPoint.Parse(ready.AdminEndpoint).Port);
        Assert.Equal("sqlite", ready.Journal);
        Assert.Equal(Path.Combine(Path.GetFullPath(data.Path), "kms.db"), ready.JournalLocation);
        Assert.StartsWith("akka.tcp://", ready.ClusterAddress);

        // The same facts as the node's own API and its log line.
        using var admin = new AdminClient(node);
        var health = await admin.HealthAsync();
        Assert.Equal(ready.HostId, health.HostId);
        var line = node.Output.Split('\n').Select(NodeProcess.ParseReadyLine).Single(l => l is not null)!;
        Assert.Equal(ready.ActivationEndpoints, line.ActivationEndpoints);
        Assert.Equal(ready.AdminEndpoint, line.AdminEndpoint);
        await using var connection = await node.OpenConnectionAsync();
    }

    [Fact]
    public async Task A_node_that_fails_to_start_writes_no_ready_file_and_removes_a_stale_one()
    {
        using var data = new TempDirectory();
        var readyFile = Path.Combine(data.Path, "ready.json");
        await File.WriteAllTextAsync(readyFile, "{ \"left\": \"by an earlier run\" }");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", Path.Combine(data.Path, "node"),
            "--listen", "127.0.0.1:0", "--admin", $"127.0.0.1:{port}", "--ready-file", readyFile);

        Assert.Equal(2, exit);
        Assert.Contains("kms-node: cannot listen", stderr);
        Assert.False(File.Exists(readyFile));
    }

    [Fact]
    public async Task Live_and_ready_endpoints_answer_200_once_the_node_serves()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        using var http = new HttpClient { BaseAddress = node.AdminUri };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/ready")).StatusCode);
    }

    [Fact]
    public void The_ready_document_round_trips_as_camel_case_json()
    {
        var ready = new NodeReady("n", Guid.NewGuid(), ["127.0.0.1:1688"], "127.0.0.1:8688", "akka.tcp://kms@127.0.0.1:1",
            "sqlite", "/data/kms.db", 42);
        var json = ready.ToJson();
        Assert.Contains("\"activationEndpoints\"", json);
        var back = NodeReady.Parse(json);
        Assert.Equal(ready with { ActivationEndpoints = back.ActivationEndpoints }, back);
        Assert.Equal(ready.ActivationEndpoints, back.ActivationEndpoints);
    }
}
