using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Registry;

/// <summary>The registry in a SQLite file of its own beside the journal (<c>registry.db</c> in the data directory):
/// SQLite has one writer at a time per file, and a registry batch holding the journal's file for tens of
/// milliseconds stalled the windows' journal writes (open-loop p99 from 4 to 41 ms at 90,000 answers/s). WAL, and
/// <c>synchronous=NORMAL</c>: a power cut may lose the last seconds of registry rows (they come back with the
/// machines' next contact), never the journal's. GUIDs are lowercase text. A batch is one transaction of prepared
/// upserts. Search goes through an FTS5 trigram index of CMIDs and workstation names, kept by triggers (a row's
/// CMID and workstation never change, so only an insert or a delete touches it).</summary>
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
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction;
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'client_registry'";
        var exists = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
        if (exists && version < SchemaVersion)
        {
            // Version 1 (keyed by application, CMID and workstation, without a row key): moved into the new table,
            // whose triggers fill the search index as the rows arrive.
            command.CommandText = """
                DROP INDEX IF EXISTS client_registry_recent;
                DROP INDEX IF EXISTS client_registry_cmid;
                DROP INDEX IF EXISTS client_registry_product;
                DROP INDEX IF EXISTS client_registry_valid_until;
                ALTER TABLE client_registry RENAME TO client_registry_v1;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        command.CommandText = $"""
            CREATE TABLE IF NOT EXISTS client_registry (
                id INTEGER PRIMARY KEY,
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
                UNIQUE (application_id, cmid, workstation));
            CREATE INDEX IF NOT EXISTS client_registry_order ON client_registry (last_contact);
            CREATE INDEX IF NOT EXISTS client_registry_cmid ON client_registry (cmid);
            CREATE INDEX IF NOT EXISTS client_registry_product_order ON client_registry (product_id, last_contact);
            CREATE INDEX IF NOT EXISTS client_registry_expiry ON client_registry (valid_until, last_contact);
            CREATE INDEX IF NOT EXISTS client_registry_product_expiry ON client_registry (product_id, valid_until, last_contact);
            CREATE VIRTUAL TABLE IF NOT EXISTS client_registry_search USING fts5(
                cmid, workstation, content = 'client_registry', content_rowid = 'id', tokenize = 'trigram', detail = 'none');
            CREATE TRIGGER IF NOT EXISTS client_registry_search_insert AFTER INSERT ON client_registry BEGIN
                INSERT INTO client_registry_search (rowid, cmid, workstation) VALUES (new.id, new.cmid, new.workstation);
            END;
            CREATE TRIGGER IF NOT EXISTS client_registry_search_delete AFTER DELETE ON client_registry BEGIN
                INSERT INTO client_registry_search (client_registry_search, rowid, cmid, workstation)
                VALUES ('delete', old.id, old.cmid, old.workstation);
            END;
            PRAGMA user_version = {SchemaVersion};
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (exists && version < SchemaVersion)
        {
            command.CommandText = $"INSERT INTO client_registry ({Columns}) SELECT {Columns} FROM client_registry_v1; DROP TABLE client_registry_v1;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>2: an integer row key (the page order's tie-break, and the search index's row id) and the trigram
    /// search index. 1 (the first registry) had neither.</summary>
    private const int SchemaVersion = 2;

    /// <summary>How many of the newest rows a search samples to judge how common its text is.</summary>
    private const int SearchSample = 20_000;

    /// <summary>Matches in the sample (0.5 %) from which reading in page order finds a page sooner than the index.</summary>
    private const int CommonSearchMatches = 100;

    /// <summary>
    /// A common text (a workstation prefix most machines share) is found soonest by reading the registry in page
    /// order; a rare one through the trigram index, whose candidates are then sorted for the page (the index
    /// enumerating a common text's hundreds of thousands of rows took 1.7 s). Which one it is, a sample of the newest
    /// rows tells. The index is asked with the text as a plain LIKE pattern (its wildcards unescaped: the index
    /// takes no ESCAPE), which can only widen the candidates; the escaped condition then keeps exactly the matches.
    /// </summary>
    protected override async Task<string> SearchConditionAsync(DbConnection connection, DbCommand command, string search,
        CancellationToken cancellationToken)
    {
        var exact = await base.SearchConditionAsync(connection, command, search, cancellationToken);
        await using var sample = connection.CreateCommand();
        sample.CommandText = $"""
            SELECT count(*) FROM (SELECT r.cmid, r.workstation FROM client_registry r
                                  ORDER BY r.last_contact DESC, r.id DESC LIMIT {SearchSample}) r
            WHERE {exact}
            """;
        Add(sample, "search", "%" + EscapeLike(search) + "%");
        var matches = Convert.ToInt32(await sample.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (matches >= CommonSearchMatches) return exact;
        Add(command, "searchIndex", "%" + search + "%");
        return $"""
            r.id IN (SELECT rowid FROM client_registry_search WHERE cmid LIKE @searchIndex
                     UNION SELECT rowid FROM client_registry_search WHERE workstation LIKE @searchIndex) AND {exact}
            """;
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
