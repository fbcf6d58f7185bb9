using Akka.Persistence.Sql.Config;
using KmsCluster.Actors.Entities;
using KmsCluster.Node.Persistence;
using KmsCluster.Testing;
using LinqToDB;
using LinqToDB.Data;
using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Tests;

public sealed class SqliteStoreTests
{
    [Fact]
    public void Journal_and_snapshot_connections_are_durable_wal_connections()
    {
        using var data = new TempDirectory();
        var store = SqliteStore.Open(new DataDirectory(data.Path), Guid.NewGuid());
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup(OpenFence.Instance));

        foreach (var pluginId in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            Assert.True(setup.TryGetDataOptionsFor(pluginId, out var options), pluginId);
            using var connection = new DataConnection(options!);
            Assert.Equal("wal", connection.Execute<string>("PRAGMA journal_mode;"));
            // synchronous=FULL: every commit is on disk before the contact is acknowledged.
            Assert.Equal(2L, connection.Execute<long>("PRAGMA synchronous;"));
        }
    }

    [Fact]
    public async Task A_write_that_meets_another_writers_lock_waits_in_the_stores_busy_handler_then_succeeds()
    {
        using var data = new TempDirectory();
        var store = SqliteStore.Open(new DataDirectory(data.Path), Guid.NewGuid());
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup(OpenFence.Instance));
        Assert.True(setup.TryGetDataOptionsFor("akka.persistence.journal.sql", out var options));
        long waits = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument is { Meter.Name: "KmsCluster", Name: "kms.sqlite.busy_waits" }) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref waits, value));
        listener.Start();

        using var other = new SqliteConnection(store.ConnectionString);
        other.Open();
        Execute(other, "CREATE TABLE probe (x INTEGER); BEGIN IMMEDIATE; INSERT INTO probe VALUES (1);");
        var write = Task.Run(() =>
        {
            using var connection = new DataConnection(options!);
            connection.Execute("INSERT INTO probe VALUES (2);");
        });
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Interlocked.Read(ref waits) < 3 && !write.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.False(write.IsCompleted, "the write went through while another connection held the write lock");
        Assert.True(Interlocked.Read(ref waits) >= 3, "the write is not waiting in the store's busy handler");
        Execute(other, "COMMIT;");
        await write.WaitAsync(TimeSpan.FromSeconds(20));
        using var check = other.CreateCommand();
        check.CommandText = "SELECT count(*) FROM probe;";
        Assert.Equal(2L, (long)check.ExecuteScalar()!);
    }

    [Fact]
    public void No_journal_or_snapshot_connection_opens_once_the_fence_closed()
    {
        using var data = new TempDirectory();
        var store = SqliteStore.Open(new DataDirectory(data.Path), Guid.NewGuid());
        var fence = new SwitchFence();
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup(fence));
        foreach (var pluginId in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            Assert.True(setup.TryGetDataOptionsFor(pluginId, out var options), pluginId);
            using (var open = new DataConnection(options!))
            {
                open.Execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER); INSERT INTO probe VALUES (1);");
            }
            fence.MayWrite = false;
            using (var fenced = new DataConnection(options!))
            {
                var refused = Assert.Throws<InvalidOperationException>(() => fenced.Execute("INSERT INTO probe VALUES (2);"));
                Assert.Contains("frozen", refused.Message);
            }
            fence.MayWrite = true;
        }
        using var check = new SqliteConnection(store.ConnectionString);
        check.Open();
        using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM probe;";
        Assert.Equal(2L, (long)count.ExecuteScalar()!); // one row per plugin's open connection, none from the fenced ones
    }

    private sealed class SwitchFence : IWriteFence
    {
        public bool MayWrite { get; set; } = true;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
