using System.Runtime.InteropServices;
using Akka.Configuration;
using LinqToDB;
using KmsCluster.Actors;
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

    /// <summary>Prepares the database file in a data directory this process holds (see <see cref="DataDirectory.Lock"/>).</summary>
    /// <exception cref="Configuration.NodeOptionsException">the file cannot be opened.</exception>
    public static SqliteStore Open(DataDirectory data, Guid nodeId)
    {
        var store = new SqliteStore(data.JournalDatabase, nodeId);
        RefuseForeignFile(store.DatabasePath);
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

    /// <summary>The tables Akka.Persistence.Sql creates in the file (journal, its metadata, tags, snapshots), and the
    /// client registry's, which builds before registry.db kept in this file (left there, unused).</summary>
    private static readonly string[] JournalTables = ["journal", "journal_metadata", "tags", "snapshot", "client_registry"];

    /// <summary>
    /// An existing file must be a journal before anything writes to it: opening it read-write would switch it to
    /// WAL and the journal would create its tables in it, changing another application's database or writing
    /// around corruption. Read-only and unpooled, so the check leaves the file's bytes as they were.
    /// </summary>
    /// <exception cref="Configuration.NodeOptionsException">the file is not an SQLite database, or one of another application.</exception>
    private static void RefuseForeignFile(string path)
    {
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            return;
        }
        var readOnly = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        var foreign = new List<string>();
        try
        {
            using var connection = new SqliteConnection(readOnly);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var table = reader.GetString(0);
                if (!JournalTables.Contains(table)) foreign.Add(table);
            }
        }
        catch (SqliteException e)
        {
            throw new Configuration.NodeOptionsException(
                $"--data: {path} is not a KmsCluster journal ({e.Message.TrimEnd('.')}); the file is left as it is: move it away or use another --data");
        }
        if (foreign.Count > 0)
        {
            throw new Configuration.NodeOptionsException(
                $"--data: {path} is the database of another application (tables {string.Join(", ", foreign.Take(5))}{(foreign.Count > 5 ? ", ..." : "")}), not a KmsCluster journal; the file is left as it is: move it away or use another --data");
        }
    }

    /// <summary>Akka.Persistence.Sql journal and snapshot store on this file. One writer at a time: SQLite
    /// serialises writers anyway, and parallel ones would only wait on its lock.</summary>
    public override Config PersistenceConfig() => SqlPersistenceConfig(ConnectionString, ProviderName, parallelism: 1);

    /// <summary>
    /// The journal, the snapshot store and the trimming deletes write on separate connections, and SQLite
    /// admits one writer at a time. Microsoft.Data.Sqlite answers a busy database by sleeping 150 ms before
    /// it tries again, and SQLite's own busy_timeout handler backs off in growing steps (1, 2, 5, 10, 15, 20,
    /// 25 ... ms): either way every client behind the journal stalled far longer than the few milliseconds a
    /// snapshot or a trim holds the lock. This handler, installed per connection, tries again every
    /// millisecond, so a waiting journal write goes on about a millisecond after the lock is free.
    /// </summary>
    protected override DataOptions Connections() => new DataOptions()
        .UseConnectionString(ProviderName, ConnectionString)
        .UseAfterConnectionOpened(connection =>
            NativeMethods.sqlite3_busy_handler(((SqliteConnection)connection).Handle!.DangerousGetHandle(), RetryEveryMillisecond, IntPtr.Zero));

    private const string ProviderName = "SQLite.MS";

    /// <summary>Waits up to the command timeout (30 s): a writer waits its turn rather than failing.</summary>
    private static readonly NativeMethods.BusyHandler RetryEveryMillisecond = (_, count) =>
    {
        if (count >= BusyRetries) return 0;
        KmsMetrics.SqliteBusyWaits.Add(1);
        Thread.Sleep(1);
        return 1;
    };

    private const int BusyRetries = 30_000;

    /// <summary>SQLitePCLRaw does not expose sqlite3_busy_handler; the bundled library does.</summary>
    private static class NativeMethods
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate int BusyHandler(IntPtr user, int count);

        [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_busy_handler(IntPtr db, BusyHandler handler, IntPtr user);
    }
}
