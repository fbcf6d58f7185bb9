using Microsoft.Data.Sqlite;

namespace KmsCluster.Testing;

/// <summary>Client registry rows written straight into a stopped node's registry.db (the table exists once the node has
/// started once): backdated machines for retention tests, or many of them for a page query on a large registry.</summary>
public static class RegistryRows
{
    public sealed record Row(Guid Cmid, string Workstation, string Product, DateTimeOffset LastContact, bool Activated);

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
