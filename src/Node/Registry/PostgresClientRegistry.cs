using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace KmsCluster.Node.Registry;

/// <summary>
/// The registry in the PostgreSQL database the cluster shares: every node writes its answers into the same table,
/// so any node's admin API shows the whole cluster's machines. A batch is one <c>INSERT ... SELECT FROM unnest(...)
/// ON CONFLICT DO UPDATE</c> (one round trip for thousands of rows), its rows in key order so that two nodes
/// writing the same machines lock them in the same order.
/// </summary>
public sealed class PostgresClientRegistry(string connectionString) : ClientRegistryStore
{
    /// <inheritdoc/>
    public override int BatchRows => 5_000;

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Several nodes may start at once: the advisory lock makes one of them create the table.
        command.CommandText = """
            BEGIN;
            SELECT pg_advisory_xact_lock(1689);
            CREATE TABLE IF NOT EXISTS client_registry (
                application_id uuid NOT NULL,
                cmid uuid NOT NULL,
                workstation text NOT NULL,
                product_id uuid NOT NULL,
                vm boolean NOT NULL,
                first_contact bigint NOT NULL,
                last_contact bigint NOT NULL,
                last_count integer NOT NULL,
                activated boolean NOT NULL,
                valid_until bigint,
                node text NOT NULL,
                PRIMARY KEY (application_id, cmid, workstation));
            CREATE INDEX IF NOT EXISTS client_registry_recent ON client_registry (last_contact, cmid, workstation, application_id);
            CREATE INDEX IF NOT EXISTS client_registry_cmid ON client_registry (cmid);
            CREATE INDEX IF NOT EXISTS client_registry_product ON client_registry (product_id, last_contact);
            CREATE INDEX IF NOT EXISTS client_registry_valid_until ON client_registry (valid_until);
            COMMIT;
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task UpsertAsync(IReadOnlyCollection<RegistryRow> rows, string node, CancellationToken cancellationToken)
    {
        var ordered = rows.OrderBy(r => r.Latest.ApplicationId).ThenBy(r => r.Latest.Cmid)
            .ThenBy(r => r.Latest.Workstation, StringComparer.Ordinal).ToArray();
        await using var connection = (NpgsqlConnection)await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            INSERT INTO client_registry ({Columns})
            SELECT a, c, w, p, v, f, l, n, act, u, @node
            FROM unnest(@application, @cmid, @workstation, @product, @vm, @first, @last, @count, @activated, @validUntil)
                AS t(a, c, w, p, v, f, l, n, act, u)
            {OnConflictUpdate("LEAST", "GREATEST")}
            """, connection);
        command.Parameters.AddWithValue("application", ordered.Select(r => r.Latest.ApplicationId).ToArray());
        command.Parameters.AddWithValue("cmid", ordered.Select(r => r.Latest.Cmid).ToArray());
        command.Parameters.AddWithValue("workstation", ordered.Select(r => r.Latest.Workstation).ToArray());
        command.Parameters.AddWithValue("product", ordered.Select(r => r.Latest.ProductId).ToArray());
        command.Parameters.AddWithValue("vm", ordered.Select(r => r.Latest.VirtualMachine).ToArray());
        command.Parameters.AddWithValue("first", ordered.Select(r => r.FirstContact.ToUnixTimeMilliseconds()).ToArray());
        command.Parameters.AddWithValue("last", ordered.Select(r => r.Latest.At.ToUnixTimeMilliseconds()).ToArray());
        command.Parameters.AddWithValue("count", ordered.Select(r => r.Latest.Count).ToArray());
        command.Parameters.AddWithValue("activated", ordered.Select(r => r.Latest.Activated).ToArray());
        command.Parameters.Add(new NpgsqlParameter("validUntil", NpgsqlDbType.Array | NpgsqlDbType.Bigint)
        {
            Value = ordered.Select(r => r.Latest.ValidUntil?.ToUnixTimeMilliseconds()).ToArray(),
        });
        command.Parameters.AddWithValue("node", node);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    protected override object Value(Guid id) => id;

    protected override Guid ReadGuid(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    protected override string CmidText => "r.cmid::text";

    protected override string Like => "ILIKE";
}
