using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>PostgreSQL stops for a few seconds under load and comes back.</summary>
public sealed class DatabaseOutageTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Clients_get_retryable_errors_and_no_false_activation_and_service_resumes_by_itself()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 2);
        await cluster.RunAsync(async () =>
        {
            await cluster.OwnerIndexAsync("windows", Settle);
            var machines = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToArray();
            // A short deadline, so the outage reaches the clients as errors instead of being retried away.
            await using var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 4,
                ContactLoad.Pool(machines, "windows-11-enterprise-n"),
                new KmsClientOptions { Deadline = TimeSpan.FromSeconds(3), RequestTimeout = TimeSpan.FromSeconds(2) });
            load.Start();
            await load.WaitForAnsweredAsync(200, Settle);

            await database.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(4));
            var answeredDuringOutage = load.Answered;
            await database.StartAgainAsync();
            var restartedAt = DateTimeOffset.UtcNow;

            // Service resumes without anybody touching the nodes.
            await load.WaitForAnsweredAsync(answeredDuringOutage + 200, Settle);
            await load.StopAsync();

            Assert.True(load.AcknowledgedBy(_ => true, restartedAt) > 0);
            // Clients were told to retry (window-unavailable), never refused for good, never falsely activated.
            Assert.True(load.Errors.GetValueOrDefault("window-unavailable") > 0, string.Join(", ", load.Errors));
            Assert.All(cluster.Running, node => Assert.False(node.HasExited, node.Output));
            WindowAssert.HoldsEveryAcknowledgedContact(load, await StoredWindow.ReadAsync(cluster.Running[0], "windows"));
        });
    }
}
