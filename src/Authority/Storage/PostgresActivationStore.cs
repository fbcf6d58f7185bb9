using KmsCluster.Authority.Configuration;
using KmsCluster.Domain;
using Npgsql;

namespace KmsCluster.Authority.Storage;

/// <summary>
/// The store on PostgreSQL (--db), for an authority that several processes serve or that must outlive one
/// machine. A decision locks its key's row in <c>host_keys</c> (SELECT ... FOR UPDATE) before it reads the count
/// and the host, so requests for one key are decided one after another, across processes, while other keys go on
/// in parallel; the commit (synchronous_commit on, PostgreSQL's default) comes before the answer.
/// </summary>
public sealed class PostgresActivationStore : IActivationStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS host_keys (
          key_id text NOT NULL PRIMARY KEY,
          host_count integer NOT NULL);
        CREATE TABLE IF NOT EXISTS host_activations (
          seq bigserial NOT NULL,
          key_id text NOT NULL,
          host_id text NOT NULL,
          host_name text NOT NULL,
          host_public_key bytea NOT NULL,
          first_activated_at bigint NOT NULL,
          last_activated_at bigint NOT NULL,
          reactivations integer NOT NULL,
          last_request_id text NOT NULL,
          last_certificate text NOT NULL,
          PRIMARY KEY (key_id, host_id));
        """;

    private readonly NpgsqlDataSource _source;

    public PostgresActivationStore(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            Location = $"{builder.Host}:{builder.Port}/{builder.Database}";
            _source = NpgsqlDataSource.Create(builder);
        }
        catch (ArgumentException e)
        {
            throw new StartupException($"--db: not a PostgreSQL connection string: {e.Message}", e);
        }
    }

    public string Kind => "postgresql";

    public string Location { get; }

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(Schema, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StartupException($"--db: cannot use {Location}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    public async Task<T> DecideAsync<T>(string keyId, Guid hostId, Func<KeyView, (T Answer, StoredHost? Write)> decide,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var ensure = new NpgsqlCommand(
                "INSERT INTO host_keys (key_id, host_count) VALUES (@key_id, 0) ON CONFLICT (key_id) DO NOTHING", connection, transaction))
            {
                ensure.Parameters.AddWithValue("key_id", keyId);
                await ensure.ExecuteNonQueryAsync(cancellationToken);
            }
            int count;
            await using (var lockKey = new NpgsqlCommand("SELECT host_count FROM host_keys WHERE key_id = @key_id FOR UPDATE",
                connection, transaction))
            {
                lockKey.Parameters.AddWithValue("key_id", keyId);
                count = Convert.ToInt32(await lockKey.ExecuteScalarAsync(cancellationToken));
            }
            var host = await ReadHostAsync(connection, transaction, keyId, hostId, cancellationToken);
            var (answer, write) = decide(new KeyView(count, host));
            if (write is not null)
            {
                await WriteAsync(connection, transaction, keyId, write, isNew: host is null, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return answer;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StoreUnavailableException($"the store {Location} failed: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    public async Task<IReadOnlyList<LedgerHost>> HostsAsync(string keyId, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _source.CreateCommand(
                $"SELECT {StoreSchema.HostColumns} FROM host_activations WHERE key_id = @key_id ORDER BY seq");
            command.Parameters.AddWithValue("key_id", keyId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var hosts = new List<LedgerHost>();
            while (await reader.ReadAsync(cancellationToken)) hosts.Add(StoreSchema.ReadLedgerHost(reader));
            return hosts;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StoreUnavailableException($"the store {Location} failed: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static async Task<StoredHost?> ReadHostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        string keyId, Guid hostId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {StoreSchema.HostColumns} FROM host_activations WHERE key_id = @key_id AND host_id = @host_id",
            connection, transaction);
        command.Parameters.AddWithValue("key_id", keyId);
        command.Parameters.AddWithValue("host_id", hostId.ToString("D"));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? StoreSchema.ReadHost(reader) : null;
    }

    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string keyId,
        StoredHost host, bool isNew, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        var write = new NpgsqlBatchCommand(isNew
            ? $"""
              INSERT INTO host_activations ({StoreSchema.HostColumns}, key_id) VALUES (@host_id, @host_name, @host_public_key,
                @first_activated_at, @last_activated_at, @reactivations, @last_request_id, @last_certificate, @key_id)
              """
            : """
              UPDATE host_activations SET host_name = @host_name, host_public_key = @host_public_key,
                first_activated_at = @first_activated_at, last_activated_at = @last_activated_at,
                reactivations = @reactivations, last_request_id = @last_request_id, last_certificate = @last_certificate
              WHERE key_id = @key_id AND host_id = @host_id
              """);
        StoreSchema.AddHostParameters((name, value) => write.Parameters.AddWithValue(name, value), keyId, host);
        batch.BatchCommands.Add(write);
        if (isNew)
        {
            var count = new NpgsqlBatchCommand("UPDATE host_keys SET host_count = host_count + 1 WHERE key_id = @key_id");
            count.Parameters.AddWithValue("key_id", keyId);
            batch.BatchCommands.Add(count);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
