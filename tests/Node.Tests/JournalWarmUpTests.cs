using KmsCluster.Testing;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Tests;

public sealed class JournalWarmUpTests
{
    [Fact]
    public async Task A_starting_node_runs_one_journal_recovery_and_writes_nothing()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--log-level", "Debug");
        Assert.True(await node.WaitForOutputAsync("Journal and snapshot store warmed up in", TimeSpan.FromSeconds(30)), node.Output);
        await node.StopGracefullyAsync();

        using var connection = new SqliteConnection($"Data Source={node.DataLocation};Mode=ReadOnly");
        connection.Open();
        foreach (var table in new[] { "journal", "snapshot" })
        {
            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT count(*) FROM {table} WHERE persistence_id = 'kms-journal-warm-up';";
            Assert.Equal(0L, (long)count.ExecuteScalar()!);
        }
    }
}
