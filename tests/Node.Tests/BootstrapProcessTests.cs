using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>One kms-node process with --discovery config: alone it forms its cluster when told one contact point
/// is enough, and a management port it cannot bind stops it at start instead of leaving it outside any cluster.</summary>
public sealed class BootstrapProcessTests
{
    [Fact]
    public async Task A_node_listing_only_itself_with_one_required_contact_point_forms_its_cluster_and_serves()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        var management = FreePorts.Next();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path,
            "--db", postgres.ConnectionString("kms"), "--discovery", "config", "--required-contact-points", "1",
            "--discovery-endpoints", $"127.0.0.1:{management}", "--management-port", management.ToString());

        Assert.Contains("Initiating new cluster, self-joining", node.Output, StringComparison.Ordinal);
        // The contact point peers probe answers with this member.
        using var http = new HttpClient();
        using var seeds = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{management}/bootstrap/seed-nodes"));
        static string Address(JsonElement a) =>
            $"{a.GetProperty("Protocol").GetString()}://{a.GetProperty("System").GetString()}@{a.GetProperty("Host").GetString()}:{a.GetProperty("Port").GetInt32()}";
        Assert.Equal(node.ClusterAddress, Address(seeds.RootElement.GetProperty("SelfNode")));
        Assert.Equal(node.ClusterAddress, Address(Assert.Single(seeds.RootElement.GetProperty("Nodes").EnumerateArray()).GetProperty("Node")));
        Assert.Equal(0, await node.StopGracefullyAsync());
    }

    [Fact]
    public async Task A_management_port_in_use_stops_the_node_at_start()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var data = new TempDirectory();

        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--listen", "127.0.0.1:0",
            "--admin", "127.0.0.1:0", "--db", postgres.ConnectionString("kms"), "--discovery", "config",
            "--required-contact-points", "1", "--discovery-endpoints", $"127.0.0.1:{port}", "--management-port", port.ToString());

        Assert.NotEqual(0, exit);
        Assert.Contains($"kms-node: start-up failed: --management-port: cannot listen on 127.0.0.1:{port}: ", stderr, StringComparison.Ordinal);
    }
}
