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
        // The search index is filled once at the end ('rebuild'), not by its insert trigger row by row: a million rows
        // in 130 s instead of 300 or more. The node's own triggers are put back as they were.
        command.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'client_registry' AND name LIKE '%insert%'";
        var triggers = new List<(string Name, string Sql)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read()) triggers.Add((reader.GetString(0), reader.GetString(1)));
        }
        foreach (var (name, _) in triggers)
        {
            command.CommandText = $"DROP TRIGGER \"{name}\"";
            command.ExecuteNonQuery();
        }
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
        command.Parameters.Clear();
        if (triggers.Count > 0)
        {
            command.CommandText = "INSERT INTO client_registry_search (client_registry_search) VALUES ('rebuild')";
            command.ExecuteNonQuery();
        }
        foreach (var (_, sql) in triggers)
        {
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }
}
