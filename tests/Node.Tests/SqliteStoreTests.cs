using Akka.Persistence.Sql.Config;
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
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup());

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
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup());
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

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
