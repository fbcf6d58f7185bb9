using System.Security.Cryptography;
using KmsCluster.Testing;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Tests;

/// <summary>A kms.db that is not this node's journal stops start-up with exit code 2 and one line naming the file,
/// and the node leaves the file's bytes as they were (an operator may still need them).</summary>
public sealed class JournalFileTests
{
    [Fact]
    public async Task A_kms_db_of_random_bytes_is_refused_and_left_untouched()
    {
        using var data = new TempDirectory();
        var journal = Path.Combine(data.Path, "kms.db");
        File.WriteAllBytes(journal, RandomNumberGenerator.GetBytes(64 * 1024));
        var before = SHA256.HashData(File.ReadAllBytes(journal));

        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path);

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"kms-node: --data: {journal} is not a KmsCluster journal (", line);
        Assert.Contains("file is not a database", line);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(journal)));
    }

    [Fact]
    public async Task A_journal_that_still_holds_the_client_registry_of_an_older_build_is_accepted()
    {
        using var data = new TempDirectory();
        var machine = Guid.NewGuid();
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var connection = await node.OpenConnectionAsync();
            Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro", machine), TimeSpan.FromSeconds(30))).IsError);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }
        // Builds before registry.db kept the registry's table in kms.db.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, "kms.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE client_registry (cmid TEXT PRIMARY KEY, last_contact INTEGER)";
            command.ExecuteNonQuery();
        }

        await using var restarted = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(restarted);
        Assert.Contains(machine, (await admin.WindowAsync("windows")).Contacts.Select(c => c.Cmid));
    }

    [Fact]
    public async Task The_sqlite_database_of_another_application_is_refused_and_left_untouched()
    {
        using var data = new TempDirectory();
        var journal = Path.Combine(data.Path, "kms.db");
        using (var connection = new SqliteConnection($"Data Source={journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL);
                CREATE TABLE customers (name TEXT PRIMARY KEY);
                INSERT INTO invoices (customer, total) VALUES ('contoso', 12.5), ('fabrikam', 99);
                """;
            command.ExecuteNonQuery();
        }
        var before = SHA256.HashData(File.ReadAllBytes(journal));

        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path);

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"kms-node: --data: {journal} is the database of another application (tables customers, invoices), " +
                     "not a KmsCluster journal; the file is left as it is: move it away or use another --data", line);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(journal)));
        // Still the other application's database, in its own journal mode (a WAL switch would have changed it).
        using var check = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        check.Open();
        using var mode = check.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("delete", mode.ExecuteScalar());
    }
}
