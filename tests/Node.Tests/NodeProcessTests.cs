using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The test harness's process control: ready line, signals, exit codes, free ports.</summary>
public sealed class NodeProcessTests
{
    [Fact]
    public void A_ready_line_without_cluster_fields_parses_with_them_null()
    {
        var ready = NodeProcess.ParseReadyLine(
            "2026-01-01T00:00:00.000Z info: KmsCluster.Node[1] KmsCluster node kms test host (0b7e2c1a-0000-4000-8000-000000000001) " +
            "ready: activation=127.0.0.1:1688,[::1]:1688 admin=127.0.0.1:8688 data=/var/lib/kms data/kms.db");
        Assert.NotNull(ready);
        Assert.Equal("kms test host", ready.Name);
        Assert.Equal("0b7e2c1a-0000-4000-8000-000000000001", ready.HostId);
        Assert.Equal(["127.0.0.1:1688", "[::1]:1688"], ready.ActivationEndpoints);
        Assert.Equal("127.0.0.1:8688", ready.AdminEndpoint);
        Assert.Equal("/var/lib/kms data/kms.db", ready.Data);
        Assert.Null(ready.ClusterAddress);
        Assert.Null(ready.Journal);
    }

    [Fact]
    public void A_ready_line_with_cluster_fields_parses_them()
    {
        var ready = NodeProcess.ParseReadyLine(
            "KmsCluster node node0 (x) ready: activation=127.0.0.1:1688 admin=127.0.0.1:8688 data=Host=127.0.0.1;Database=kms " +
            "cluster=akka.tcp://kms-1f2e@127.0.0.1:4053 journal=postgresql");
        Assert.NotNull(ready);
        Assert.Equal("Host=127.0.0.1;Database=kms", ready.Data);
        Assert.Equal("akka.tcp://kms-1f2e@127.0.0.1:4053", ready.ClusterAddress);
        Assert.Equal("postgresql", ready.Journal);
        Assert.Null(NodeProcess.ParseReadyLine("KmsCluster node node0 stopped"));
    }

    [Fact]
    public async Task A_frozen_node_answers_nothing_until_thawed_and_a_killed_one_exits_at_once()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--name", "frozen");
        Assert.Equal("frozen", node.Name);
        Assert.Null(node.ExitCode);
        using var http = new HttpClient { BaseAddress = node.AdminUri, Timeout = TimeSpan.FromSeconds(2) };
        Assert.True((await http.GetAsync("/healthz/ready")).IsSuccessStatusCode);

        node.Freeze();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.GetAsync("/healthz/ready"));
        Assert.False(node.HasExited);

        node.Thaw();
        using var patient = new HttpClient { BaseAddress = node.AdminUri, Timeout = TimeSpan.FromSeconds(30) };
        Assert.True((await patient.GetAsync("/healthz/ready")).IsSuccessStatusCode);

        node.Kill();
        await node.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(128 + 9, node.ExitCode);
    }

    [Fact]
    public async Task A_frozen_node_still_stops_gracefully()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        node.Freeze();
        Assert.Equal(0, await node.StopGracefullyAsync());
        Assert.Equal(0, node.ExitCode);
    }

    [Fact]
    public async Task Cluster_flags_pass_through_and_the_ready_line_reports_cluster_and_journal()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        var clusterPort = FreePorts.Next();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path,
            "--cluster-port", clusterPort.ToString(),
            "--seed", $"127.0.0.1:{clusterPort}",
            "--db", postgres.ConnectionString("kms"),
            "--split-brain", "keep-majority");
        Assert.Equal("postgresql", node.Journal);
        Assert.NotNull(node.ClusterAddress);
        Assert.StartsWith("akka.tcp://", node.ClusterAddress);
        Assert.EndsWith($"@127.0.0.1:{clusterPort}", node.ClusterAddress);
        Assert.Equal(0, await node.StopGracefullyAsync());
    }

    [Fact]
    public async Task A_node_that_cannot_reach_its_seed_is_bound_but_never_serving()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        var (own, nobody) = (FreePorts.Next(), FreePorts.Next());
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartBoundAsync(data.Path,
            "--cluster-port", own.ToString(), "--seed", $"127.0.0.1:{nobody}", "--db", postgres.ConnectionString("kms"));
        Assert.Equal("postgresql", node.Journal);
        await Assert.ThrowsAsync<TimeoutException>(() => node.WaitUntilServingAsync(TimeSpan.FromSeconds(3)));
        Assert.False(node.HasExited);
    }

    [Fact]
    public void Free_ports_are_never_handed_out_twice()
    {
        var ports = FreePorts.Take(50).Concat(FreePorts.Take(50)).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 1, 65535));
    }
}
