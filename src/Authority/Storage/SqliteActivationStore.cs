using KmsCluster.Authority.Configuration;
using KmsCluster.Domain;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Authority.Storage;

/// <summary>
/// The default store: <c>authority.db</c> in the data directory. WAL with synchronous=FULL, so a commit is on disk
/// before it returns; every decision is one BEGIN IMMEDIATE transaction, which takes SQLite's write lock before
/// it reads, so a second process on the same file (an offline `answer` while `serve` runs) waits its turn instead
/// of deciding on the same count. Within this process one connection writes, one decision at a time.
/// </summary>
public sealed class SqliteActivationStore(string dataDirectory) : IActivationStore
{
    public const string FileName = "authority.db";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS host_keys (
          key_id TEXT NOT NULL PRIMARY KEY,
          host_count INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS host_activations (
          key_id TEXT NOT NULL,
          host_id TEXT NOT NULL,
          host_name TEXT NOT NULL,
          host_public_key BLOB NOT NULL,
          first_activated_at INTEGER NOT NULL,
          last_activated_at INTEGER NOT NULL,
          reactivations INTEGER NOT NULL,
          last_request_id TEXT NOT NULL,
          last_certificate TEXT NOT NULL,
          PRIMARY KEY (key_id, host_id));
        """;

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(dataDirectory, FileName),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    private SqliteConnection? _connection;

    public string Kind => "sqlite";

    public string Location => Path.GetFullPath(Path.Combine(dataDirectory, FileName));

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(dataDirectory);
            _connection = await ConnectAsync(cancellationToken);
            var mode = await ScalarAsync(_connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            if (!"wal".Equals(mode as string, StringComparison.OrdinalIgnoreCase))
            {
                throw new StartupException($"--data: {Location}: SQLite refused WAL mode (journal_mode is {mode})");
            }
            await ExecuteAsync(_connection, Schema, cancellationToken);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--data: cannot open the store {Location}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    public async Task<T> DecideAsync<T>(string keyId, Guid hostId, Func<KeyView, (T Answer, StoredHost? Write)> decide,
        CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("the store is not open");
        await _writer.WaitAsync(cancellationToken);
        try
        {
            // deferred: false is BEGIN IMMEDIATE: the write lock before the reads the decision rests on.
            using var transaction = connection.BeginTransaction(deferred: false);
            var count = Convert.ToInt32(await ScalarAsync(connection, "SELECT host_count FROM host_keys WHERE key_id = @key_id",
                cancellationToken, ("@key_id", keyId)) ?? 0L);
            var host = await ReadHostAsync(connection, keyId, hostId, cancellationToken);
            var (answer, write) = decide(new KeyView(count, host));
            if (write is not null)
            {
                await WriteAsync(connection, keyId, write, isNew: host is null, cancellationToken);
            }
            transaction.Commit();
            return answer;
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException($"the store {Location} failed: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        finally
        {
            _writer.Release();
        }
    }

    public async Task<IReadOnlyList<LedgerHost>> HostsAsync(string keyId, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await ConnectAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoreSchema.HostColumns} FROM host_activations WHERE key_id = @key_id ORDER BY rowid";
            command.Parameters.AddWithValue("@key_id", keyId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var hosts = new List<LedgerHost>();
            while (await reader.ReadAsync(cancellationToken)) hosts.Add(StoreSchema.ReadLedgerHost(reader));
            return hosts;
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException($"the store {Location} failed: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await ScalarAsync(connection, "SELECT count(*) FROM host_keys", cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        _writer.Dispose();
    }

    private async Task<SqliteConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // Per connection: FULL syncs the WAL at every commit; another process's write lock is waited for.
        await ExecuteAsync(connection, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;", cancellationToken);
        return connection;
    }

    private static async Task<StoredHost?> ReadHostAsync(SqliteConnection connection, string keyId, Guid hostId,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoreSchema.HostColumns} FROM host_activations WHERE key_id = @key_id AND host_id = @host_id";
        command.Parameters.AddWithValue("@key_id", keyId);
        command.Parameters.AddWithValue("@host_id", hostId.ToString("D"));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? StoreSchema.ReadHost(reader) : null;
    }

    private static async Task WriteAsync(SqliteConnection connection, string keyId, StoredHost host, bool isNew,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = isNew
            ? $"""
              INSERT INTO host_activations ({StoreSchema.HostColumns}, key_id) VALUES (@host_id, @host_name, @host_public_key,
                @first_activated_at, @last_activated_at, @reactivations, @last_request_id, @last_certificate, @key_id);
              INSERT INTO host_keys (key_id, host_count) VALUES (@key_id, 1)
                ON CONFLICT (key_id) DO UPDATE SET host_count = host_count + 1;
              """
            : """
              UPDATE host_activations SET host_name = @host_name, host_public_key = @host_public_key,
                first_activated_at = @first_activated_at, last_activated_at = @last_activated_at,
                reactivations = @reactivations, last_request_id = @last_request_id, last_certificate = @last_certificate
              WHERE key_id = @key_id AND host_id = @host_id;
              """;
        StoreSchema.AddHostParameters((name, value) => command.Parameters.AddWithValue("@" + name, value), keyId, host);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
