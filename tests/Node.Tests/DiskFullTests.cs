using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace KmsCluster.Node.Tests;

/// <summary>
/// The data directory's file system fills up under a running SQLite node: requests get a retryable error (the
/// window could not journal them: window-unavailable), every contact the node answered stays in the journal, the
/// files pass SQLite's integrity check, and once space returns the same process answers again.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);
    private const string Product = "windows-11-enterprise";

    [Fact]
    public async Task A_full_disk_gives_retryable_errors_loses_no_answered_contact_and_service_returns_with_the_space()
    {
        using var fileSystem = SmallFileSystem.Mount(megabytes: 32);
        output.WriteLine($"data directory on a 32 MB {fileSystem.Kind} at {fileSystem.Path}");
        var data = Path.Combine(fileSystem.Path, "data");
        var answered = new List<Guid>();

        await using (var node = await NodeProcess.StartAsync(data))
        {
            await using var connection = await node.OpenConnectionAsync();
            for (var i = 0; i < 10; i++)
            {
                Assert.True(await TryActivateAsync(connection, answered) is null, "refused before the disk was full");
            }

            var filled = fileSystem.Fill();
            output.WriteLine($"filler: {filled} bytes");
            // A write may still land in space SQLite already holds (its WAL file); within a few hundred contacts
            // one needs a new page and must fail.
            ErrorResponse? refused = null;
            for (var i = 0; i < 300 && refused is null; i++)
            {
                refused = await TryActivateAsync(connection, answered);
            }
            Assert.NotNull(refused);
            output.WriteLine($"refused after {answered.Count} answered: {refused.Value.Code.Name()}: {refused.Value.Message}");
            Assert.Equal(ErrorCode.WindowUnavailable, refused.Value.Code);
            Assert.True(refused.Value.IsRetryable);
            // Still full: still refused, still answered at once (no hang, no crash).
            for (var i = 0; i < 5; i++)
            {
                var again = await TryActivateAsync(connection, answered);
                Assert.True(again is { IsRetryable: true }, $"while full: {again?.Code.Name() ?? "answered"}");
            }
            Assert.False(node.HasExited);
            Assert.Equal("ok", IntegrityCheck(Path.Combine(data, "kms.db")));

            fileSystem.Free();
            var freed = DateTime.UtcNow;
            var deadline = freed + TimeSpan.FromSeconds(60);
            ErrorResponse? last = refused;
            while (last is not null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                last = await TryActivateAsync(connection, answered);
            }
            Assert.True(last is null, $"still refused 60 s after the space returned: {last?.Message}");
            output.WriteLine($"answered again {(DateTime.UtcNow - freed).TotalSeconds:0.0} s after the space returned");
            for (var i = 0; i < 5; i++)
            {
                Assert.True(await TryActivateAsync(connection, answered) is null, "refused after the space returned");
            }

            await AssertWindowHoldsAsync(node, answered);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        Assert.Equal("ok", IntegrityCheck(Path.Combine(data, "kms.db")));
        Assert.Equal("ok", IntegrityCheck(Path.Combine(data, "registry.db")));
        // The answered contacts are in the journal, not only in the process that answered them.
        await using (var restarted = await NodeProcess.StartAsync(data))
        {
            await AssertWindowHoldsAsync(restarted, answered);
        }
    }

    /// <summary>One new machine asks; an answer adds it to <paramref name="answered"/>, an error is returned.</summary>
    private static async Task<ErrorResponse?> TryActivateAsync(Client.Connection.KmsConnection connection, List<Guid> answered)
    {
        var machine = Guid.NewGuid();
        var result = await connection.ActivateAsync(Requests.For(Product, machine), Answer);
        if (result.IsError) return result.Error;
        Assert.Equal(machine, result.Response.ClientMachineId);
        answered.Add(machine);
        return null;
    }

    /// <summary>The window keeps the latest 50 machines: every one of the last 50 answered must be there.</summary>
    private static async Task AssertWindowHoldsAsync(NodeProcess node, List<Guid> answered)
    {
        using var admin = new AdminClient(node);
        var window = await admin.WindowAsync("windows");
        var expected = answered.TakeLast(window.Capacity).ToHashSet();
        Assert.Equal(expected.Count, window.Count);
        Assert.Equal(expected, window.Contacts.Select(c => c.Cmid).ToHashSet());
    }

    private static string IntegrityCheck(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }
}
