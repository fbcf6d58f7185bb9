using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Registry;

/// <summary>The registry in a SQLite file of its own beside the journal (<c>registry.db</c> in the data directory):
/// SQLite has one writer at a time per file, and a registry batch holding the journal's file for tens of
/// milliseconds stalled the windows' journal writes (open-loop p99 from 4 to 41 ms at 90,000 answers/s). WAL, and
/// <c>synchronous=NORMAL</c>: a power cut may lose the last seconds of registry rows (they come back with the
/// machines' next contact), never the journal's. GUIDs are lowercase text. A batch is one transaction of prepared
/// upserts.</summary>
public sealed class SqliteClientRegistry(string file) : ClientRegistryStore
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
    }.ToString();

    /// <inheritdoc/>
    public override int BatchRows => 1_000;

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS client_registry (
                application_id TEXT NOT NULL,
                cmid TEXT NOT NULL,
                workstation TEXT NOT NULL,
                product_id TEXT NOT NULL,
                vm INTEGER NOT NULL,
                first_contact INTEGER NOT NULL,
                last_contact INTEGER NOT NULL,
                last_count INTEGER NOT NULL,
                activated INTEGER NOT NULL,
                valid_until INTEGER,
                node TEXT NOT NULL,
                PRIMARY KEY (application_id, cmid, workstation)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS client_registry_recent ON client_registry (last_contact, cmid, workstation, application_id);
            CREATE INDEX IF NOT EXISTS client_registry_cmid ON client_registry (cmid);
            CREATE INDEX IF NOT EXISTS client_registry_product ON client_registry (product_id, last_contact);
            CREATE INDEX IF NOT EXISTS client_registry_valid_until ON client_registry (valid_until);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task UpsertAsync(IReadOnlyCollection<RegistryRow> rows, string node, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction;
        command.CommandText = $"""
            INSERT INTO client_registry ({Columns})
            VALUES (@application, @cmid, @workstation, @product, @vm, @first, @last, @count, @activated, @validUntil, @node)
            {OnConflictUpdate("min", "max")}
            """;
        var names = new[] { "application", "cmid", "workstation", "product", "vm", "first", "last", "count", "activated", "validUntil", "node" };
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        var p = command.Parameters;
        foreach (var (latest, first) in rows)
        {
            p[0].Value = Value(latest.ApplicationId);
            p[1].Value = Value(latest.Cmid);
            p[2].Value = latest.Workstation;
            p[3].Value = Value(latest.ProductId);
            p[4].Value = latest.VirtualMachine;
            p[5].Value = first.ToUnixTimeMilliseconds();
            p[6].Value = latest.At.ToUnixTimeMilliseconds();
            p[7].Value = latest.Count;
            p[8].Value = latest.Activated;
            p[9].Value = latest.ValidUntil is { } until ? until.ToUnixTimeMilliseconds() : DBNull.Value;
            p[10].Value = node;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        // A registry of a million machines is a few hundred MB of B-trees with random keys: mapped and cached, an
        // upsert finds its pages in memory instead of a read() each (the page cache's default is 2 MB).
        pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    protected override object Value(Guid id) => id.ToString("D");

    protected override Guid ReadGuid(DbDataReader reader, int ordinal) => Guid.Parse(reader.GetString(ordinal));

    protected override string CmidText => "r.cmid";

    protected override string Like => "LIKE";
}
