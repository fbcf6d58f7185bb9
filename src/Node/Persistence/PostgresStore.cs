using Akka.Configuration;
using LinqToDB;
using KmsCluster.Node.Configuration;
using Npgsql;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// The journal a cluster shares: one PostgreSQL database. The database also names the cluster: a one-row
/// table <c>kms_cluster</c> holds an id created by the first node that ever used it, and every node derives
/// its actor system name from that id, so only nodes on the same database can form one cluster.
/// Consistency under a double writer (a frozen node waking up, two clusters on one database by mistake) is
/// the database's: Akka.Persistence.Sql's journal has a unique (persistence id, sequence number) index, so
/// the second writer of a sequence number fails and its window restarts from the journal. (Rows trimmed after a
/// snapshot no longer refuse anything: that is why a frozen node's own connections are fenced too, see
/// <see cref="JournalStore.PersistenceSetup"/>.)
/// </summary>
public sealed class PostgresStore : JournalStore
{
    private readonly string _connectionString;
    private readonly string _providerName;

    private PostgresStore(string connectionString, Guid clusterId, string providerName, string serverVersion)
    {
        _connectionString = WithSessionLimits(connectionString);
        _providerName = providerName;
        ClusterId = clusterId;
        ServerVersion = serverVersion;
        ClusterName = "kms-" + clusterId.ToString("N")[..12];
        Location = PostgresConnection.Describe(connectionString);
    }

    public Guid ClusterId { get; }

    /// <summary>The client registry's connections (Registry.PostgresClientRegistry): the same database and session limits.</summary>
    public string RegistryConnectionString => _connectionString;

    public string ServerVersion { get; }

    public override string Kind => "postgresql";

    public override string Location { get; }

    public override string ClusterName { get; }

    /// <summary>Several writers: PostgreSQL takes concurrent commits, and the windows of several applications
    /// write at once.</summary>
    public override Config PersistenceConfig() => SqlPersistenceConfig(_connectionString, _providerName, parallelism: 4);

    protected override DataOptions Connections() => new DataOptions().UseConnectionString(_providerName, _connectionString);

    /// <summary>The split brain resolver's lease, in the same database (see <see cref="Clustering.PostgresLease"/>).</summary>
    public override string? LeaseConnectionString => _connectionString;

    /// <summary>Connects, creating the cluster id on first use. A database that does not answer yet is waited
    /// for (it may be starting with the cluster) up to <paramref name="wait"/>; wrong credentials or a missing
    /// database fail at once.</summary>
    /// <exception cref="NodeOptionsException">the database cannot be used.</exception>
    public static async Task<PostgresStore> OpenAsync(string connectionString, TimeSpan wait, Action<string> waiting,
        CancellationToken cancellationToken)
    {
        var location = PostgresConnection.Describe(connectionString);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                var versionNumber = connection.PostgreSqlVersion;
                var provider = versionNumber.Major switch
                {
                    >= 15 => "PostgreSQL.15",
                    >= 13 => "PostgreSQL.13",
                    >= 11 => "PostgreSQL.11",
                    _ => throw new NodeOptionsException($"--db: {location} runs PostgreSQL {versionNumber}; KmsCluster needs 11 or newer"),
                };
                var clusterId = await ReadOrCreateClusterIdAsync(connection, cancellationToken);
                // Armed before this node writes anything when the journal exists; on a new database the
                // JournalSequenceGuardInstaller arms it once the journal has been created.
                await JournalSequenceGuard.TryInstallAsync(connection, cancellationToken);
                return new PostgresStore(connectionString, clusterId, provider, versionNumber.ToString());
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword
                                                  or PostgresErrorCodes.InvalidAuthorizationSpecification
                                                  or PostgresErrorCodes.InvalidCatalogName
                                                  or PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new NodeOptionsException($"--db: {location}: {e.MessageText}");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                waiting($"PostgreSQL at {location} is not available yet ({e.Message}); retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new NodeOptionsException($"--db: PostgreSQL at {location} did not answer within {wait.TotalSeconds:0} s: {e.Message}");
            }
        }
    }

    /// <summary>
    /// A node frozen in the middle of a journal write (a paused VM, SIGSTOP) keeps its transaction open, and
    /// with it the lock on the window's next sequence number: the survivors' writes to that window would wait
    /// for it forever. PostgreSQL ends such a session after 5 s idle in a transaction; the frozen node's write
    /// is rolled back (it was never acknowledged) and the survivors carry on.
    /// </summary>
    private static string WithSessionLimits(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = (builder.Options + " -c idle_in_transaction_session_timeout=5000").Trim();
        return builder.ConnectionString;
    }

    private static async Task<Guid> ReadOrCreateClusterIdAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Several nodes may start at once: the advisory lock makes the first one create the row.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(1688);
            CREATE TABLE IF NOT EXISTS kms_cluster (
                one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
                id uuid NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO kms_cluster (id) VALUES (@id) ON CONFLICT (one_row) DO NOTHING;
            CREATE TABLE IF NOT EXISTS kms_lease (
                name text PRIMARY KEY,
                owner text,
                expires_at timestamptz NOT NULL);
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("id", Guid.NewGuid());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var read = new NpgsqlCommand("SELECT id FROM kms_cluster", connection, transaction);
        var id = (Guid)(await read.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return id;
    }
}
