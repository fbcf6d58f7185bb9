using Akka.Configuration;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Actors.Tests;

/// <summary>A throwaway SQLite file with Akka.Persistence.Sql's journal and snapshot store on it, configured like the
/// node; the actor tests on a real journal share it.</summary>
internal sealed class SqliteTestDatabase : IDisposable
{
    /// <param name="copyOf">A database file to start from (a journal written by an older build), copied so the test
    /// never changes it.</param>
    public SqliteTestDatabase(string prefix, string? copyOf = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}.db");
        if (copyOf is not null)
        {
            File.Copy(copyOf, Path);
        }
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate }.ToString();
    }

    public string Path { get; }

    public string ConnectionString { get; }

    /// <summary>The actor system configuration: journal and snapshot store on this file, the KMS serializer.</summary>
    public Config Config => ConfigurationFactory.ParseString($$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql {
              connection-string = "{{ConnectionString.Replace("\\", "\\\\")}}"
              provider-name = "SQLite.MS"
              parallelism = 1
              auto-initialize = true
            }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql {
              connection-string = "{{ConnectionString.Replace("\\", "\\\\")}}"
              provider-name = "SQLite.MS"
              auto-initialize = true
            }
          }
        }
        """).WithFallback(KmsSerialization.Config).WithFallback(SqlPersistence.DefaultConfiguration);

    public async Task<List<T>> Query<T>(string sql, Func<SqliteDataReader, T> read)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync()) rows.Add(read(reader));
        return rows;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
        {
            File.Delete(Path + suffix);
        }
    }
}
