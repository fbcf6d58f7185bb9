using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Backup;

/// <summary>SQLite's online backup API and its integrity check, for the journal and the client registry.</summary>
internal static class SqliteCopy
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int Attempts = 50;

    /// <summary>
    /// Copies <paramref name="source"/> into the new file <paramref name="destination"/> while a node may be writing it.
    /// Microsoft.Data.Sqlite copies every page in one sqlite3_backup_step inside one read transaction, so the copy is
    /// the database as of one commit: every transaction committed before the step began is in it, none half. In WAL
    /// mode that read does not hold the node's writer up. The copy is then made a self-contained file (no -wal beside it).
    /// </summary>
    public static void Backup(string source, string destination)
    {
        using var from = Open(source, SqliteOpenMode.ReadWrite);
        using var to = Open(destination, SqliteOpenMode.ReadWriteCreate);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                from.BackupDatabase(to);
                break;
            }
            // A checkpoint that resets the WAL can make a reader wait a moment; anything else is a real failure.
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked && attempt < Attempts)
            {
                Thread.Sleep(100);
            }
        }
        Execute(to, "PRAGMA journal_mode=DELETE;");
    }

    /// <summary>SQLite's <c>PRAGMA integrity_check</c>: null when it says ok, else its first complaint.</summary>
    public static string? IntegrityProblem(string file)
    {
        try
        {
            using var connection = Open(file, SqliteOpenMode.ReadOnly);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA integrity_check;";
            var answer = command.ExecuteScalar() as string;
            return answer == "ok" ? null : answer ?? "no answer";
        }
        catch (SqliteException e)
        {
            return e.Message;
        }
    }

    // No pooling: the files are moved or archived right after, so no connection may stay open on them.
    private static SqliteConnection Open(string file, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = mode,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
