using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>Every node stops; the cluster starts again from PostgreSQL.</summary>
public sealed class RestartTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_full_cluster_restart_brings_every_window_back_identical()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3);
        await cluster.RunAsync(async () =>
        {
            await cluster.OwnerIndexAsync("windows", Settle);
            var windowsMachines = Enumerable.Range(0, 35).Select(_ => Guid.NewGuid()).ToArray();
            var officeMachines = Enumerable.Range(0, 9).Select(_ => Guid.NewGuid()).ToArray();
            await using (var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 4,
                             n => n % 3 == 0
                                 ? (officeMachines[Random.Shared.Next(officeMachines.Length)], Requests.Product("office-ltsc-2021-standard"))
                                 : (windowsMachines[Random.Shared.Next(windowsMachines.Length)], Requests.Product("windows-11-education"))))
            {
                load.Start();
                await load.WaitForAnsweredAsync(600, Settle);
                await load.StopAsync();
            }
            var before = new[]
            {
                await StoredWindow.ReadAsync(cluster.Running[0], "windows"),
                await StoredWindow.ReadAsync(cluster.Running[0], "office"),
            };
            Assert.Equal(35, before[0].Count);
            Assert.Equal(9, before[1].Count); // Office keeps 10 while only threshold-5 editions ask

            // Stop all (youngest first, as an operator would), then start all again.
            foreach (var node in cluster.Nodes.Reverse())
            {
                Assert.Equal(0, await node!.StopGracefullyAsync());
            }
            for (var i = 0; i < cluster.Nodes.Length; i++)
            {
                await cluster.StartNodeAsync(i);
            }
            await cluster.OwnerIndexAsync("windows", Settle);
            await cluster.OwnerIndexAsync("office", Settle);

            foreach (var (application, previous) in new[] { ("windows", before[0]), ("office", before[1]) })
            {
                var after = await StoredWindow.ReadAsync(cluster.Running[2], application);
                Assert.Equal(previous.Contacts, after.Contacts);
                Assert.Equal((previous.Count, previous.Capacity, previous.Requests, previous.Activated),
                    (after.Count, after.Capacity, after.Requests, after.Activated));
            }
        });
    }
}
