using KmsCluster.Testing;
using Npgsql;

namespace KmsCluster.Node.Tests;

/// <summary>
/// The PostgreSQL journal stays single-writer although every window trims it up to each snapshot: a row whose
/// sequence number was written before is refused even after the row that would have collided with it was deleted,
/// as a second writer that fell behind would write it (the chaos run's fork, docs/chaos.md).
/// </summary>
public sealed class JournalSequenceGuardTests
{
    private const string ArmedSql =
        "SELECT count(*) FROM pg_trigger WHERE tgname = 'kms_journal_sequence_guard' AND tgrelid = to_regclass('journal')";

    [Fact]
    public async Task A_sequence_number_written_and_trimmed_is_refused_and_the_next_one_is_taken()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        var clusterPort = FreePorts.Next();
        using var data = new TempDirectory();
        string[] args = ["--cluster-port", clusterPort.ToString(), "--seed", $"127.0.0.1:{clusterPort}", "--db", postgres.ConnectionString("kms")];
        await using (var node = await NodeProcess.StartAsync(data.Path, args))
        {
            // A new database: the journal did not exist when the node opened it, so the guard is armed once it does.
            await WaitUntilArmedAsync(postgres);
            await using var connection = await node.OpenConnectionAsync();
            foreach (var _ in Enumerable.Range(0, 3))
            {
                var answer = await connection.ActivateAsync(Requests.For("windows-11-pro", Guid.NewGuid()), TimeSpan.FromSeconds(30));
                Assert.False(answer.IsError, answer.ToString());
            }
            await node.StopGracefullyAsync();
        }
        var (window, highest) = await HighestWindowRowAsync(postgres);
        Assert.True(highest >= 3, $"three contacts made {highest} events");
        Assert.Equal(highest, Convert.ToInt64(await postgres.ExecuteScalarAsync("kms",
            "SELECT sequence_number FROM kms_journal_high_water WHERE persistence_id = $1", window)));

        // Trim the window's journal as its snapshots do, then write its first event again, as a writer that fell
        // behind would: nothing is left for the unique index to collide with, and the guard refuses it.
        await postgres.ExecuteAsync("kms", "CREATE TABLE trimmed AS SELECT * FROM journal WHERE persistence_id = $1", window);
        await postgres.ExecuteAsync("kms", "DELETE FROM journal WHERE persistence_id = $1", window);
        var refused = await RefusedAsync(postgres, "INSERT INTO journal OVERRIDING SYSTEM VALUE SELECT * FROM trimmed WHERE sequence_number = 1");
        Assert.Contains($"{window}: sequence number 1 was written before", refused.MessageText);
        // So is the highest one; the one after it is a writer that is up to date.
        await RefusedAsync(postgres, "INSERT INTO journal OVERRIDING SYSTEM VALUE SELECT * FROM trimmed WHERE sequence_number = $1", highest);
        await postgres.ExecuteAsync("kms", "UPDATE trimmed SET sequence_number = sequence_number + 1 WHERE sequence_number = $1", highest);
        Assert.Equal(1, await postgres.ExecuteAsync("kms",
            "INSERT INTO journal OVERRIDING SYSTEM VALUE SELECT * FROM trimmed WHERE sequence_number = $1", highest + 1));
        Assert.Equal(highest + 1, Convert.ToInt64(await postgres.ExecuteScalarAsync("kms",
            "SELECT sequence_number FROM kms_journal_high_water WHERE persistence_id = $1", window)));
    }

    /// <summary>The statement fails as a duplicate sequence number does.</summary>
    private static async Task<PostgresException> RefusedAsync(PostgresServer postgres, string sql, params object?[] parameters)
    {
        var failed = await Assert.ThrowsAsync<PostgresServerException>(() => postgres.ExecuteAsync("kms", sql, parameters));
        var refused = Assert.IsType<PostgresException>(failed.InnerException);
        Assert.Equal(PostgresErrorCodes.UniqueViolation, refused.SqlState);
        return refused;
    }

    private static async Task WaitUntilArmedAsync(PostgresServer postgres)
    {
        for (var i = 0; Convert.ToInt64(await postgres.ExecuteScalarAsync("kms", ArmedSql)) == 0; i++)
        {
            Assert.True(i < 600, "the journal sequence guard was never armed");
            await Task.Delay(100);
        }
    }

    private static async Task<(string Window, long Highest)> HighestWindowRowAsync(PostgresServer postgres)
    {
        var rows = await postgres.QueryAsync("kms",
            "SELECT persistence_id, max(sequence_number) FROM journal WHERE persistence_id LIKE 'activation-window-%' GROUP BY 1");
        var row = Assert.Single(rows);
        return ((string)row[0]!, Convert.ToInt64(row[1]));
    }
}
