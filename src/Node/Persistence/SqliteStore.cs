using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using LinqToDB;
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
    public override Config PersistenceConfig() => SqlPersistenceConfig(ConnectionString, ProviderName, parallelism: 1);

    /// <summary>
    /// The journal, the snapshot store and the trimming deletes write on separate connections, and SQLite
    /// admits one writer at a time. Microsoft.Data.Sqlite answers a busy database by sleeping 150 ms before
    /// it tries again, which stalled every client behind the journal each time a snapshot crossed a write.
    /// SQLite's own busy handler, switched on per connection, waits in steps of a millisecond or so instead.
    /// </summary>
    public override Setup PersistenceSetup()
    {
        var options = new DataOptions()
            .UseConnectionString(ProviderName, ConnectionString)
            .UseAfterConnectionOpened(connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"PRAGMA busy_timeout={BusyTimeoutMilliseconds};";
                command.ExecuteNonQuery();
            });
        var setup = new MultiDataOptionsSetup();
        setup.AddDataOptions(JournalPluginId, options);
        setup.AddDataOptions(SnapshotPluginId, options);
        return setup;
    }

    private const string ProviderName = "SQLite.MS";

    /// <summary>As long as the command timeout: a writer waits its turn rather than failing.</summary>
    private const int BusyTimeoutMilliseconds = 30_000;
}
