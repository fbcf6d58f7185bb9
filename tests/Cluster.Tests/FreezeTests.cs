using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>kill -STOP of a window's owner for longer than failure detection, then kill -CONT.</summary>
public sealed class FreezeTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);
    private const string WindowsPersistenceId = "activation-window-26256b66aecf58438c1911e0c33ded51";

    [Fact]
    public async Task The_survivors_carry_on_and_the_woken_owner_writes_nothing_and_leaves()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3);
        await cluster.RunAsync(async () =>
        {
            var owner = await cluster.OwnerIndexAsync("windows", Settle);
            var frozen = cluster.Nodes[owner]!;
            var machines = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
            await using var load = new ContactLoad(cluster.Running.Select(n => n.ActivationEndpoint).ToList(), workers: 6,
                ContactLoad.Pool(machines, "windows-11-pro"));
            load.Start();
            await load.WaitForAnsweredAsync(300, Settle);

            frozen.Freeze();
            var frozenAt = DateTimeOffset.UtcNow;
            // Its journal's writer id: until the survivors take the window over, it is the window's only writer.
            // (Asked now: their snapshots will trim these rows away.)
            var frozenWriters = (await database.QueryAsync("kms",
                    "SELECT DISTINCT writer_uuid FROM journal WHERE persistence_id = $1", WindowsPersistenceId))
                .Select(row => (string)row[0]!).ToArray();
            Assert.Single(frozenWriters);
            // What an operator sees on a survivor meanwhile: every part answers or says what it could not reach.
            await AdminDuringOutage.CheckAsync(cluster.Nodes.First(n => n is not null && n != frozen)!, cluster.ClusterPorts[owner], Settle);
            // Failure detection takes a few seconds; the survivors must take the window over meanwhile.
            await load.WaitForAnsweredAsync(load.Answered + 300, Settle);
            Assert.True(load.AcknowledgedBy(host => host != frozen.Name, frozenAt) > 0);
            await load.StopAsync();
            // Past failure detection and downing, whatever the load took.
            var remaining = TimeSpan.FromSeconds(12) - (DateTimeOffset.UtcNow - frozenAt);
            if (remaining > TimeSpan.Zero) await Task.Delay(remaining);

            var thawedAt = DateTime.UtcNow;
            frozen.Thaw();
            // It finds itself downed: it leaves and its process ends with exit code 1.
            await frozen.WaitForExitAsync(Settle);
            Assert.Equal(1, frozen.ExitCode);
            Assert.Contains("frozen for", frozen.Output);

            // It journaled nothing after it woke.
            var writtenAfterWaking = (long)(await database.ExecuteScalarAsync("kms",
                "SELECT count(*) FROM journal WHERE writer_uuid = ANY($1) AND created > $2", frozenWriters, thawedAt.Ticks))!;
            Assert.Equal(0, writtenAfterWaking);

            var survivor = cluster.Running[0];
            Assert.NotEqual(owner, await cluster.OwnerIndexAsync("windows", Settle));
            WindowAssert.HoldsEveryAcknowledgedContact(load, await StoredWindow.ReadAsync(survivor, "windows"));
        });
    }
}
