using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>kill -9 of the node that owns a window, under load through every node.</summary>
public sealed class FailoverTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Three_nodes_lose_no_acknowledged_contact_when_the_windows_owner_is_killed()
    {
        await using var database = await PostgresServer.StartAsync();
        // Three nodes can also decide by majority alone, without the database's lease.
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3, "keep-majority");
        await cluster.RunAsync(async () =>
        {
            var owner = await cluster.OwnerIndexAsync("windows", Settle);
            var view = await cluster.ClusterViewAsync();
            Assert.Equal("postgresql", view.Journal);
            Assert.Equal("keep-majority", view.SplitBrain);

            // Fewer machines than the window keeps, so every acknowledged one must still be there.
            var machines = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
            await using var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 6,
                ContactLoad.Pool(machines, "windows-11-enterprise"));
            load.Start();
            await load.WaitForAnsweredAsync(300, Settle);

            var victim = cluster.Nodes[owner]!;
            victim.Kill();
            var killedAt = DateTimeOffset.UtcNow;
            await load.WaitForAnsweredAsync(load.Answered + 300, Settle);
            await load.StopAsync();

            // The survivors answered for the window after the kill, and one of them owns it now.
            Assert.True(load.AcknowledgedBy(host => host != victim.Name, killedAt) > 0);
            // How soon is the benchmark's business (bench/ClusterBench, about 4.3 s); this generous bound only
            // catches a failover that waits for timeouts instead of following the membership change.
            var resumedAfter = load.FirstAcknowledgedSince(killedAt)!.Value - killedAt;
            Assert.True(resumedAfter < TimeSpan.FromSeconds(30), $"the window answered again {resumedAfter.TotalSeconds:0.0} s after the kill");
            var newOwner = await cluster.OwnerIndexAsync("windows", Settle);
            Assert.NotEqual(owner, newOwner);
            var window = await StoredWindow.ReadAsync(cluster.Running[0], "windows");
            WindowAssert.HoldsEveryAcknowledgedContact(load, window);
            Assert.True(window.Count <= machines.Length);
        });
    }

    [Fact]
    public async Task Three_nodes_keep_the_latest_fifty_of_thousands_of_machines_across_a_kill()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3);
        await cluster.RunAsync(async () =>
        {
            var owner = await cluster.OwnerIndexAsync("windows", Settle);

            await using var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 8,
                ContactLoad.NewMachines(4000, "windows-10-enterprise"));
            load.Start();
            await load.WaitForAnsweredAsync(1500, Settle);
            cluster.Nodes[owner]!.Kill();
            await load.WaitForAnsweredAsync(3000, Settle);
            await load.StopAsync();

            await cluster.OwnerIndexAsync("windows", Settle);
            var window = await StoredWindow.ReadAsync(cluster.Running[0], "windows");
            WindowAssert.KeepsTheLatestContacts(load, window);
            Assert.Equal(50, window.Count);
        });
    }

    [Fact]
    public async Task Failures_one_after_another_with_the_dead_coming_back_lose_nothing()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3);
        await cluster.RunAsync(async () =>
        {
            var machines = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
            await using var load = new ContactLoad(cluster.Nodes.Select(n => n!.ActivationEndpoint).ToList(), workers: 6,
                ContactLoad.Pool(machines, "windows-11-enterprise"));
            load.Start();
            await load.WaitForAnsweredAsync(200, Settle);

            // Each round kills the window's current owner and brings it back: the lease that decided the last
            // round is held by a survivor, and the next decision may fall to another member.
            for (var round = 0; round < 3; round++)
            {
                var owner = await cluster.OwnerIndexAsync("windows", Settle);
                cluster.Nodes[owner]!.Kill();
                await load.WaitForAnsweredAsync(load.Answered + 150, Settle);
                await cluster.StartNodeAsync(owner);
                await cluster.OwnerIndexAsync("windows", Settle);
            }
            await load.WaitForAnsweredAsync(load.Answered + 100, Settle);
            await load.StopAsync();

            Assert.Equal(3, cluster.Running.Count);
            WindowAssert.HoldsEveryAcknowledgedContact(load, await StoredWindow.ReadAsync(cluster.Running[0], "windows"));
        });
    }

    // With two nodes only the database's lease can tell a crash from a partition: keep-oldest would shut the
    // survivor down when the oldest dies, keep-majority when the node with the lowest address dies.
    [Theory]
    [InlineData(0)] // the oldest
    [InlineData(1)] // the youngest
    public async Task Two_nodes_lose_no_acknowledged_contact_whichever_node_is_killed(int victimIndex)
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 2);
        await cluster.RunAsync(async () =>
        {
            await cluster.OwnerIndexAsync("windows", Settle);
            var view = await cluster.ClusterViewAsync();
            Assert.Equal("lease-majority", view.SplitBrain);
            Assert.Equal(cluster.Nodes[0]!.ClusterAddress, view.Oldest);

            var machines = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToArray();
            await using var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 4,
                ContactLoad.Pool(machines, "windows-10-pro"));
            load.Start();
            await load.WaitForAnsweredAsync(200, Settle);

            var victim = cluster.Nodes[victimIndex]!;
            victim.Kill();
            var killedAt = DateTimeOffset.UtcNow;
            await load.WaitForAnsweredAsync(load.Answered + 200, Settle);
            await load.StopAsync();

            var survivor = cluster.Nodes[1 - victimIndex]!;
            Assert.False(survivor.HasExited, survivor.Output);
            Assert.True(load.AcknowledgedBy(host => host == survivor.Name, killedAt) > 0);
            Assert.Equal(1 - victimIndex, await cluster.OwnerIndexAsync("windows", Settle));
            WindowAssert.HoldsEveryAcknowledgedContact(load, await StoredWindow.ReadAsync(survivor, "windows"));
        });
    }
}
