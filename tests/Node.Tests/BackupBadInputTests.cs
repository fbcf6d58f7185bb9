using KmsCluster.Testing;
using Microsoft.Data.Sqlite;

namespace KmsCluster.Node.Tests;

/// <summary>kms-node backup and restore given bad input, on a data directory made without a node: one line on stderr,
/// the exit code of its kind, and nothing written or overwritten.</summary>
public sealed class BackupBadInputTests
{
    [Fact]
    public async Task Bad_input_gets_one_line_and_an_exit_code_and_nothing_is_overwritten()
    {
        using var directory = new TempDirectory();
        var data = Path.Combine(directory.Path, "data");
        var backup = Path.Combine(directory.Path, "good.tar");
        MakeDataDirectory(data);

        // The source: missing, not a data directory, a --db node's directory without --identity-only.
        var missing = await KmsNodeAsync("backup", "--data", Path.Combine(directory.Path, "nope"), "--out", backup);
        AssertOneLine(missing, 2, "kms-node backup: --data: ", "does not exist");
        Assert.False(File.Exists(backup));
        var noJournal = Path.Combine(directory.Path, "postgres-node");
        Directory.CreateDirectory(noJournal);
        File.WriteAllText(Path.Combine(noJournal, "node-id"), Guid.NewGuid() + "\n");
        AssertOneLine(await KmsNodeAsync("backup", "--data", noJournal, "--out", backup), 2, "kms-node backup: --data: ",
            "holds no kms.db; a node with --db keeps its journal in PostgreSQL: dump that with pg_dump and back this directory up with --identity-only");
        Assert.False(File.Exists(backup));

        var taken = await KmsNodeAsync("backup", "--data", data, "--out", backup);
        Assert.True(taken.ExitCode == 0, taken.StdErr);
        var original = File.ReadAllBytes(backup);

        // --out exists: not overwritten.
        AssertOneLine(await KmsNodeAsync("backup", "--data", data, "--out", backup), 2, "kms-node backup: --out: ",
            "already exists; a backup never overwrites a file");
        Assert.Equal(original, File.ReadAllBytes(backup));

        // A target directory with something in it: refused, left as it was.
        var occupied = Path.Combine(directory.Path, "occupied");
        Directory.CreateDirectory(occupied);
        File.WriteAllText(Path.Combine(occupied, "keep.txt"), "mine");
        AssertOneLine(await KmsNodeAsync("restore", "--from", backup, "--data", occupied), 2, "kms-node restore: --data: ",
            "is not empty; restore into a new directory (nothing was changed)");
        Assert.Equal(["keep.txt"], Entries(occupied));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(occupied, "keep.txt")));

        // Not backups: garbage, a truncated backup, a backup whose journal changed after it was written.
        var garbage = Path.Combine(directory.Path, "garbage.tar");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 3)).ToArray());
        var truncated = Path.Combine(directory.Path, "truncated.tar");
        File.WriteAllBytes(truncated, original[..(original.Length / 2)]);
        var damaged = Path.Combine(directory.Path, "damaged.tar");
        File.WriteAllBytes(damaged, original);
        FlipDatabaseByte(damaged);
        var target = Path.Combine(directory.Path, "restored");
        AssertOneLine(await KmsNodeAsync("restore", "--from", garbage, "--data", target), 3,
            $"kms-node restore: {garbage} is not a kms-node backup", "");
        AssertOneLine(await KmsNodeAsync("restore", "--from", truncated, "--data", target), 3, "kms-node restore: ", "");
        AssertOneLine(await KmsNodeAsync("restore", "--from", damaged, "--data", target), 3, "kms-node restore: ",
            "kms.db in the backup is damaged: its size or SHA-256 differs from the manifest's");
        AssertOneLine(await KmsNodeAsync("restore", "--from", Path.Combine(directory.Path, "none.tar"), "--data", target), 2,
            "kms-node restore: --from: ", "does not exist");
        // Nothing left behind: no target, no half-unpacked directory beside it.
        Assert.Equal(["damaged.tar", "data", "garbage.tar", "good.tar", "occupied", "postgres-node", "truncated.tar"], Entries(directory.Path));

        // The good backup still restores, into an empty directory too.
        Directory.CreateDirectory(target);
        var restored = await KmsNodeAsync("restore", "--from", backup, "--data", target);
        Assert.True(restored.ExitCode == 0, restored.StdErr);
        Assert.Equal(File.ReadAllText(Path.Combine(data, "node-id")), File.ReadAllText(Path.Combine(target, "node-id")));
        Assert.Equal(42L, Scalar(Path.Combine(target, "kms.db"), "SELECT answer FROM sample"));
    }

    private static List<string> Entries(string directory) =>
        Directory.GetFileSystemEntries(directory).Select(e => Path.GetRelativePath(directory, e)).Order(StringComparer.Ordinal).ToList();

    private static Task<(int ExitCode, string StdOut, string StdErr)> KmsNodeAsync(params string[] args) =>
        NodeProcess.RunToExitAsync(null, args);

    private static void AssertOneLine((int ExitCode, string StdOut, string StdErr) run, int exitCode, string prefix, string end)
    {
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}, expected {exitCode}: {run.StdErr}");
        var line = run.StdErr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith(prefix, line);
        Assert.EndsWith(end, line);
        Assert.Equal("", run.StdOut);
    }

    /// <summary>A data directory as a stopped node leaves it, without starting one: node-id, keys, a WAL-mode kms.db.</summary>
    private static void MakeDataDirectory(string data)
    {
        Directory.CreateDirectory(Path.Combine(data, "host-certificates"));
        File.WriteAllText(Path.Combine(data, "node-id"), Guid.NewGuid() + "\n");
        File.WriteAllText(Path.Combine(data, "host-signing.key"), "not a real key\n");
        File.WriteAllText(Path.Combine(data, "host-certificates", "k1.json"), "{}");
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "kms.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE sample (answer INTEGER); INSERT INTO sample VALUES (42);";
        command.ExecuteNonQuery();
    }

    private static object? Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Flips one byte of the SQLite database inside the tar file (the only one in it), past its header.</summary>
    private static void FlipDatabaseByte(string tarFile)
    {
        var bytes = File.ReadAllBytes(tarFile);
        var start = bytes.AsSpan().IndexOf("SQLite format 3\0"u8);
        Assert.True(start >= 0, "no SQLite database in the backup");
        bytes[start + 200] ^= 0xFF;
        File.WriteAllBytes(tarFile, bytes);
    }
}
