using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>
/// Two nodes that are not one cluster but share one database (an operator's mistake, or what a frozen owner
/// looks like to the others): each thinks it owns the windows. The journal's sequence guard (and its unique
/// (persistence id, sequence number) index) must make the second writer fail loudly instead of forking the window.
/// </summary>
public sealed class DoubleWriterTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_second_writer_of_a_window_fails_loudly_and_the_window_does_not_fork()
    {
        await using var database = await PostgresServer.StartAsync();
        await database.CreateDatabaseAsync("kms");
        using var data = new TempDirectory();
        var connection = database.ConnectionString("kms");
        // No seeds: each node forms a cluster of its own on the same database.
        await using var first = await NodeProcess.StartAsync(Path.Combine(data.Path, "a"), "--name", "a", "--db", connection);
        await using var second = await NodeProcess.StartAsync(Path.Combine(data.Path, "b"), "--name", "b", "--db", connection);
        Assert.Equal(first.ClusterAddress![..first.ClusterAddress!.IndexOf('@')], second.ClusterAddress![..second.ClusterAddress!.IndexOf('@')]);

        var machines = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToArray();
        var options = new KmsClientOptions { Deadline = TimeSpan.FromSeconds(20) };
        await using (var load = new ContactLoad([first.ActivationEndpoint, second.ActivationEndpoint], workers: 4,
                         ContactLoad.Pool(machines, "windows-11-pro-n"), options))
        {
            load.Start();
            await load.WaitForAnsweredAsync(400, Settle);
            await load.StopAsync();

            // Loudly: the losing writer logs the failed write and the database's refusal (the sequence guard's, which
            // comes before the unique index's and also holds after trimming).
            var logs = first.Output + second.Output;
            Assert.Contains("writing event", logs);
            Assert.Contains("a second writer of this entity", logs);

            Assert.Equal(0, await first.StopGracefullyAsync());
            Assert.Equal(0, await second.StopGracefullyAsync());

            // One sequence per window in the journal, and a fresh node recovers every acknowledged contact.
            var forks = (long)(await database.ExecuteScalarAsync("kms",
                "SELECT count(*) FROM (SELECT persistence_id, sequence_number FROM journal GROUP BY 1, 2 HAVING count(*) > 1) d"))!;
            Assert.Equal(0, forks);
            await using var fresh = await NodeProcess.StartAsync(Path.Combine(data.Path, "c"), "--name", "c", "--db", connection);
            WindowAssert.HoldsEveryAcknowledgedContact(load, await StoredWindow.ReadAsync(fresh, "windows"));
        }
    }
}
