using Microsoft.Data.Sqlite;

namespace KmsCluster.Testing;

/// <summary>Client registry rows written straight into a stopped node's registry.db (the table exists once the node has
/// started once): backdated machines for retention tests, or many of them for a page query on a large registry.</summary>
public static class RegistryRows
{
    public sealed record Row(Guid Cmid, string Workstation, string Product, DateTimeOffset LastContact, bool Activated);

    /// <summary>The registry's table as the first nodes made it (schema 1: keyed by application, CMID and
    /// workstation, no row key, no search index), for the test that a node moves it into the current schema.</summary>
    public static void CreateFirstSchema(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE client_registry (
                application_id TEXT NOT NULL, cmid TEXT NOT NULL, workstation TEXT NOT NULL, product_id TEXT NOT NULL,
                vm INTEGER NOT NULL, first_contact INTEGER NOT NULL, last_contact INTEGER NOT NULL,
                last_count INTEGER NOT NULL, activated INTEGER NOT NULL, valid_until INTEGER, node TEXT NOT NULL,
                PRIMARY KEY (application_id, cmid, workstation)) WITHOUT ROWID;
            CREATE INDEX client_registry_recent ON client_registry (last_contact, cmid, workstation, application_id);
            CREATE INDEX client_registry_cmid ON client_registry (cmid);
            CREATE INDEX client_registry_product ON client_registry (product_id, last_contact);
            CREATE INDEX client_registry_valid_until ON client_registry (valid_until);
            """;
        command.ExecuteNonQuery();
    }

    public static void Insert(string database, IEnumerable<Row> rows)
    {
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO client_registry (application_id, cmid, workstation, product_id, vm, first_contact, last_contact, last_count, activated, valid_until, node)
            VALUES (@a, @c, @w, @p, 0, @t, @t, 50, @act, @u, 'old-node')
            """;
        foreach (var name in new[] { "a", "c", "w", "p", "t", "act", "u" }) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        command.Prepare();
        foreach (var row in rows)
        {
            var product = Requests.Product(row.Product);
            command.Parameters["a"].Value = product.Application.Id.ToString();
            command.Parameters["c"].Value = row.Cmid.ToString();
            command.Parameters["w"].Value = row.Workstation;
            command.Parameters["p"].Value = product.Id.ToString();
            command.Parameters["t"].Value = row.LastContact.ToUnixTimeMilliseconds();
            command.Parameters["act"].Value = row.Activated;
            command.Parameters["u"].Value = row.Activated ? row.LastContact.AddDays(180).ToUnixTimeMilliseconds() : DBNull.Value;
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }
}
