using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>Scaling and a rollout under fleet load (issue 16): a fourth node joins a running 3-node cluster, then nodes
/// leave one by one with SIGTERM, as a Kubernetes rollout or a scale-in stops them.</summary>
public sealed class ScaleTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_node_added_and_nodes_stopped_one_by_one_lose_no_request_no_window_and_no_contact()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 4, null, _ => [], started: 3);
        await cluster.RunAsync(async () =>
        {
            await cluster.OwnerIndexAsync("windows", Settle);
            var entry = cluster.Running.Select(n => n.ActivationEndpoint).ToList();
            // Both windows full (35 Windows clients over a threshold of 25, 9 Office machines over 5): the path most
            // requests take, answered from grants that a leaving node must hand back.
            var windowsMachines = Enumerable.Range(0, 35).Select(_ => Guid.NewGuid()).ToArray();
            var officeMachines = Enumerable.Range(0, 9).Select(_ => Guid.NewGuid()).ToArray();
            await using var windows = new ContactLoad(entry, workers: 3, ContactLoad.Pool(windowsMachines, "windows-11-pro"));
            await using var office = new ContactLoad(entry, workers: 3, ContactLoad.Pool(officeMachines, "office-ltsc-2021-standard"));
            windows.Start();
            office.Start();
            await windows.WaitForAnsweredAsync(300, Settle);
            await office.WaitForAnsweredAsync(100, Settle);

            // Scale out: a fourth node joins under load and becomes a member the others see Up.
            var added = await cluster.StartNodeAsync(3);
            await cluster.OwnerIndexAsync("windows", Settle);
            await windows.WaitForAnsweredAsync(windows.Answered + 300, Settle);

            // Scale in, one node at a time, the oldest first (it hosts the shard coordinator): each leaves gracefully
            // (exit 0), the cluster settles, and the load goes on through the nodes left.
            foreach (var leaving in new[] { 0, 1 })
            {
                Assert.Equal(0, await cluster.Nodes[leaving]!.StopGracefullyAsync());
                await cluster.OwnerIndexAsync("windows", Settle, via: added);
                await cluster.OwnerIndexAsync("office", Settle, via: added);
                await windows.WaitForAnsweredAsync(windows.Answered + 200, Settle);
                await office.WaitForAnsweredAsync(office.Answered + 50, Settle);
            }
            await windows.StopAsync();
            await office.StopAsync();

            // No request failed beyond the retries the client made, and no answer broke the model.
            Assert.Empty(windows.Errors);
            Assert.Empty(office.Errors);
            Assert.Equal(2, (await cluster.ClusterViewAsync(added)).Members.Count(m => m.Status == "Up"));
            // Every window is there, with every acknowledged contact and its count unchanged: all its machines.
            var windowsWindow = await WindowAssert.EventuallyHoldsEveryAcknowledgedContactAsync(windows, added, "windows",
                windows.Answered, Settle);
            var officeWindow = await WindowAssert.EventuallyHoldsEveryAcknowledgedContactAsync(office, added, "office",
                office.Answered, Settle);
            Assert.Equal((35, 9), (windowsWindow.Count, officeWindow.Count));
        });
    }
}
