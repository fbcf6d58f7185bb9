using System.Data.Common;
using System.Text;

namespace KmsCluster.Node.Registry;

/// <summary>
/// The <c>client_registry</c> table in the node's store (its SQLite file, or the PostgreSQL database the cluster
/// shares): one row per (application, CMID, workstation), with an integer row key that breaks ties in page order.
/// Times are Unix milliseconds. Written only by the
/// <see cref="ClientRegistryWriter"/>; read by the admin API. The queries are the same SQL on both engines; the
/// schema and the batch upsert differ.
/// </summary>
public abstract class ClientRegistryStore
{
    protected const string Columns =
        "application_id, cmid, workstation, product_id, vm, first_contact, last_contact, last_count, activated, valid_until, node";

    /// <summary>Rows per upsert transaction. SQLite has one writer at a time, so its batches stay small: a journal
    /// write waits for at most one of them (a few milliseconds), not for a whole second's worth of answers.</summary>
    public abstract int BatchRows { get; }

    /// <summary>The upsert's conflict clause, one rule for both engines: first contact the earliest, last contact the
    /// latest, and the last answer's fields only from a newer contact, so a late batch from another node never
    /// overwrites a newer one. <paramref name="least"/>/<paramref name="greatest"/>: the engine's two-argument
    /// min and max (SQLite <c>min</c>/<c>max</c>, PostgreSQL <c>LEAST</c>/<c>GREATEST</c>).</summary>
    protected static string OnConflictUpdate(string least, string greatest)
    {
        const string newer = "excluded.last_contact >= client_registry.last_contact";
        var latest = string.Join(",\n    ", new[] { "product_id", "vm", "last_count", "activated", "valid_until", "node" }
            .Select(c => $"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE client_registry.{c} END"));
        return $"""
            ON CONFLICT (application_id, cmid, workstation) DO UPDATE SET
                first_contact = {least}(client_registry.first_contact, excluded.first_contact),
                {latest},
                last_contact = {greatest}(client_registry.last_contact, excluded.last_contact)
            """;
    }

    /// <summary>Why the store has no search index, if it has none (a search then reads every row).</summary>
    public virtual string? SearchIndexMissing => null;

    /// <summary>Creates the table and its indexes if missing (at start, like the journal's tables).</summary>
    public abstract Task EnsureSchemaAsync(CancellationToken cancellationToken);

    /// <summary>Upserts one batch in one transaction: last contact and what it said win; first contact is the minimum.</summary>
    public abstract Task UpsertAsync(IReadOnlyCollection<RegistryRow> rows, string node, CancellationToken cancellationToken);

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A GUID as a parameter value (SQLite: its text; PostgreSQL: uuid).</summary>
    protected abstract object Value(Guid id);

    protected abstract Guid ReadGuid(DbDataReader reader, int ordinal);

    /// <summary>The CMID as text for a search, and the case-insensitive LIKE.</summary>
    protected abstract string CmidText { get; }

    protected abstract string Like { get; }

    /// <summary>Deletes the rows whose last contact is before <paramref name="cutoff"/>; returns how many.</summary>
    public async Task<int> DeleteSilentAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM client_registry WHERE last_contact < @cutoff";
        Add(command, "cutoff", cutoff.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One page in registry order (newest contact first), and whether there is more.</summary>
    public async Task<(IReadOnlyList<StoredClient> Page, bool More)> QueryAsync(ClientQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.ProductId is { } product)
        {
            where.Add("r.product_id = @product");
            Add(command, "product", Value(product));
        }
        if (query.Activated is { } activated)
        {
            where.Add("r.activated = @activated");
            Add(command, "activated", activated);
        }
        if (query.ExpiringWithin is { } expiring)
        {
            where.Add("r.valid_until > @now AND r.valid_until <= @expiry");
            Add(command, "now", query.Now.ToUnixTimeMilliseconds());
            Add(command, "expiry", (query.Now + expiring).ToUnixTimeMilliseconds());
        }
        if (query.SilentFor is { } silent)
        {
            where.Add("r.last_contact <= @silentSince");
            Add(command, "silentSince", (query.Now - silent).ToUnixTimeMilliseconds());
        }
        if (query.Search is { Length: > 0 } search)
        {
            Add(command, "search", "%" + EscapeLike(search) + "%");
            where.Add(await SearchConditionAsync(connection, command, search, cancellationToken));
        }
        if (query.After is { } after)
        {
            where.Add("(r.last_contact, r.id) < (@afterLast, @afterRow)");
            Add(command, "afterLast", after.LastContactMs);
            Add(command, "afterRow", after.RowId);
        }
        // The page's row keys first, from an index and a sort of integers (no text and no row is read for the rows
        // the filter matches but the page does not hold); then those rows, and the clone check for them only.
        var keys = "SELECT r.id FROM client_registry r" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") +
                   " ORDER BY r.last_contact DESC, r.id DESC LIMIT @limit";
        command.CommandText = Select("p") + $" WHERE p.id IN ({keys}) ORDER BY p.last_contact DESC, p.id DESC";
        Add(command, "limit", query.Limit + 1);
        var rows = await ReadAsync(command, cancellationToken);
        return rows.Count > query.Limit ? (rows.Take(query.Limit).ToArray(), true) : (rows, false);
    }

    /// <summary>The condition for a search: the text anywhere in the CMID or the workstation name, any case
    /// (<c>@search</c> holds the escaped <c>LIKE</c> pattern). An engine adds what lets an index answer it.</summary>
    protected virtual Task<string> SearchConditionAsync(DbConnection connection, DbCommand command, string search,
        CancellationToken cancellationToken) =>
        Task.FromResult($"({CmidText} {Like} @search ESCAPE '\\' OR r.workstation {Like} @search ESCAPE '\\')");

    /// <summary>Every row of one CMID, newest first; empty when the registry has never seen it.</summary>
    public async Task<IReadOnlyList<StoredClient>> FindAsync(Guid cmid, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = Select("p") + " WHERE p.cmid = @cmid ORDER BY p.last_contact DESC, p.id DESC";
        Add(command, "cmid", Value(cmid));
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The registry's rows as <paramref name="alias"/>: the row key, the columns, and whether another
    /// workstation shares the row's CMID.</summary>
    private static string Select(string alias) =>
        $"SELECT {alias}.id, {string.Join(", ", Columns.Split(", ").Select(c => alias + "." + c))}, " +
        $"EXISTS (SELECT 1 FROM client_registry o WHERE o.cmid = {alias}.cmid AND o.workstation <> {alias}.workstation) " +
        $"FROM client_registry {alias}";

    private async Task<IReadOnlyList<StoredClient>> ReadAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<StoredClient>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredClient(
                reader.GetInt64(0),
                ReadGuid(reader, 1),
                ReadGuid(reader, 2),
                reader.GetString(3),
                ReadGuid(reader, 4),
                reader.GetBoolean(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                reader.GetInt32(8),
                reader.GetBoolean(9),
                reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                reader.GetString(11),
                reader.GetBoolean(12)));
        }
        return rows;
    }

    protected static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    protected static string EscapeLike(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
