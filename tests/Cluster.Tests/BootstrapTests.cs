using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>--discovery config: nodes given each other's management endpoints and no seed form one cluster.</summary>
public sealed class BootstrapTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Three_nodes_started_at_once_with_config_discovery_form_one_cluster_and_each_serves()
    {
        await using var database = await PostgresServer.StartAsync();
        var management = FreePorts.Take(3);
        var endpoints = string.Join(',', management.Select(port => $"127.0.0.1:{port}"));
        await using var cluster = await LocalCluster.StartBootstrappedAsync(database, "kms", 3, i =>
        [
            "--discovery", "config", "--discovery-endpoints", endpoints, "--management-port", management[i].ToString(),
        ]);
        await cluster.RunAsync(async () =>
        {
            // Every node sees the same three Up members: three clusters of one would each see only themselves.
            var addresses = cluster.Nodes.Select(n => n!.ClusterAddress).Order().ToArray();
            foreach (var node in cluster.Nodes)
            {
                var view = await cluster.ClusterViewAsync(node);
                Assert.Equal(addresses, view.Members.Where(m => m.Status == "Up").Select(m => (string?)m.Address).Order());
            }
            // One node formed it (the lowest management address, once it had heard from enough of the others);
            // the others joined the cluster it reported.
            Assert.Single(cluster.Nodes, n => n!.Output.Contains("Initiating new cluster, self-joining", StringComparison.Ordinal));

            await cluster.OwnerIndexAsync("windows", Patience);
            foreach (var node in cluster.Nodes)
            {
                await using var connection = await node!.OpenConnectionAsync();
                var answer = await connection.ActivateAsync(Requests.For("windows-11-pro"), Patience);
                Assert.False(answer.IsError, $"{node.Name}: {answer}");
            }
        });
    }
}
