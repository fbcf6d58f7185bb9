using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// The embedded default store: one SQLite file in the data directory, written by this node alone (the
/// directory lock keeps a second node off it). WAL mode lets the admin API read while the journal writes;
/// synchronous=FULL (SQLite's default) makes every commit durable before it returns.
/// </summary>
public sealed class SqliteStore : JournalStore
{
    private SqliteStore(string databasePath, Guid nodeId)
    {
        DatabasePath = databasePath;
        ClusterName = "kms-sqlite-" + nodeId.ToString("N")[..12];
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string DatabasePath { get; }

    public override string Kind => "sqlite";

    public override string Location => DatabasePath;

    /// <summary>Unique to this node: an SQLite node never shares its windows.</summary>
    public override string ClusterName { get; }

    public string ConnectionString { get; }

    /// <summary>Prepares the database file in a data directory this process holds (see <see cref="DataDirectoryLock"/>).</summary>
    /// <exception cref="Configuration.NodeOptionsException">the file cannot be opened.</exception>
    public static SqliteStore Open(string dataDirectory, Guid nodeId)
    {
        var store = new SqliteStore(Path.Combine(dataDirectory, "kms.db"), nodeId);
        try
        {
            using var connection = new SqliteConnection(store.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteScalar();
        }
        catch (SqliteException e)
        {
            throw new Configuration.NodeOptionsException($"--data: cannot open {store.DatabasePath}: {e.Message}");
        }
        return store;
    }

    /// <summary>Akka.Persistence.Sql journal and snapshot store on this file. One writer at a time: SQLite
    /// serialises writers anyway, and parallel ones would only wait on its lock.</summary>
    public override Config PersistenceConfig() => SqlPersistenceConfig(ConnectionString, "SQLite.MS", parallelism: 1);
}
