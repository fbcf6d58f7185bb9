using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// The embedded default store: one SQLite file in the data directory, written by this node alone.
/// A lock file keeps a second node off the same directory; WAL mode lets the admin API read while the
/// journal writes; synchronous=FULL (SQLite's default) makes every commit durable before it returns.
/// </summary>
public sealed class SqliteStore : IDisposable
{
    private readonly FileStream _lock;

    private SqliteStore(string databasePath, FileStream lockFile)
    {
        DatabasePath = databasePath;
        _lock = lockFile;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string DatabasePath { get; }

    public string ConnectionString { get; }

    /// <summary>Takes the data directory for this process and prepares the database file.</summary>
    /// <exception cref="Configuration.NodeOptionsException">the directory is unusable or taken.</exception>
    public static SqliteStore Open(string dataDirectory)
    {
        FileStream lockFile;
        try
        {
            Directory.CreateDirectory(dataDirectory);
            lockFile = new FileStream(Path.Combine(dataDirectory, "kms.lock"), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new Configuration.NodeOptionsException(
                $"--data: {dataDirectory} is in use by another kms-node or not writable ({e.Message.TrimEnd('.')}); one SQLite file must have one writer");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new Configuration.NodeOptionsException($"--data: {dataDirectory} is not writable ({e.Message.TrimEnd('.')})");
        }

        var store = new SqliteStore(Path.Combine(dataDirectory, "kms.db"), lockFile);
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
            store.Dispose();
            throw new Configuration.NodeOptionsException($"--data: cannot open {store.DatabasePath}: {e.Message}");
        }
        return store;
    }

    /// <summary>Akka.Persistence.Sql journal and snapshot store on this file. One writer at a time: SQLite
    /// serialises writers anyway, and parallel ones would only wait on its lock.</summary>
    public Config PersistenceConfig() => ConfigurationFactory.ParseString($$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql {
              connection-string = "{{HoconString(ConnectionString)}}"
              provider-name = "SQLite.MS"
              parallelism = 1
              auto-initialize = true
            }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql {
              connection-string = "{{HoconString(ConnectionString)}}"
              provider-name = "SQLite.MS"
              auto-initialize = true
            }
          }
        }
        """);

    private static string HoconString(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"");

    public void Dispose() => _lock.Dispose();
}
