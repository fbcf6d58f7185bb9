using Akka.Persistence.Sql.Config;
using KmsCluster.Node.Persistence;
using KmsCluster.Testing;
using LinqToDB;
using LinqToDB.Data;

namespace KmsCluster.Node.Tests;

public sealed class SqliteStoreTests
{
    [Fact]
    public void Journal_and_snapshot_connections_wait_in_sqlite_instead_of_sleeping_150ms_in_the_driver()
    {
        using var data = new TempDirectory();
        var store = SqliteStore.Open(data.Path, Guid.NewGuid());
        var setup = Assert.IsType<MultiDataOptionsSetup>(store.PersistenceSetup());

        foreach (var pluginId in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            Assert.True(setup.TryGetDataOptionsFor(pluginId, out var options), pluginId);
            using var connection = new DataConnection(options!);
            Assert.Equal(30_000L, connection.Execute<long>("PRAGMA busy_timeout;"));
            Assert.Equal("wal", connection.Execute<string>("PRAGMA journal_mode;"));
            // synchronous=FULL: every commit is on disk before the contact is acknowledged.
            Assert.Equal(2L, connection.Execute<long>("PRAGMA synchronous;"));
        }
    }
}
