using System.Collections.Concurrent;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>
/// kms-node backup and restore on real node processes: an online SQLite backup taken while a client keeps activating,
/// restored into a new data directory and served by a new node process as the same host; a PostgreSQL journal
/// dumped with pg_dump and restored with pg_restore into a new database. Grants are off (--grant-lease 0), so every
/// acknowledged contact was journaled before its answer, and the windows stay below their capacity (50 Windows,
/// 10 Office), so no contact is pushed out: the restored windows must hold every contact acknowledged before the backup.
/// </summary>
public sealed class BackupRestoreTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);
    private static readonly string[] NoGrants = ["--grant-lease", "0"];

    /// <summary>Machines per edition of the first traffic: both windows, the Office one past its threshold of 5.</summary>
    private static readonly (string Product, string Application, int Machines)[] Traffic =
    [
        ("windows-11-pro", "windows", 10),
        ("windows-server-2025-standard", "windows", 4),
        ("office-ltsc-2024-professional-plus", "office", 6),
    ];

    [Fact]
    public async Task An_online_backup_under_traffic_restores_into_a_new_node_with_the_windows_ledger_and_registry_of_the_backup_point()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "source");
        var backup = Path.Combine(directory.Path, "source.backup.tar");
        var restored = Path.Combine(directory.Path, "restored");
        var acknowledged = new ConcurrentDictionary<Guid, string>(); // CMID -> application
        IReadOnlyDictionary<Guid, string> acknowledgedBeforeBackup;
        IReadOnlyList<HostKeyLedgerJson> ledger;
        IReadOnlyList<Guid> first;
        string hostId, adminToken;

        await using (var node = await NodeProcess.StartAsync(source, NoGrants))
        {
            hostId = node.HostId;
            adminToken = node.AdminToken!;
            using var admin = new AdminClient(node);
            first = await ActivateAsync(node, acknowledged);
            await WaitForRegistryAsync(admin, first);
            ledger = await admin.HostKeysAsync();

            // A client keeps activating through the backup: new Windows machines (up to 20 more, so the window stays
            // below its 50) and then renewals of them.
            using var stop = new CancellationTokenSource();
            var answered = 0;
            var client = Task.Run(async () =>
            {
                await using var connection = await node.OpenConnectionAsync();
                var machines = new List<Guid>();
                while (!stop.IsCancellationRequested)
                {
                    var request = machines.Count < 20
                        ? Requests.For("windows-11-pro")
                        : Requests.For("windows-11-pro", machines[answered % machines.Count]);
                    var result = await connection.ActivateAsync(request, Answer);
                    Assert.False(result.IsError, result.ToString());
                    if (acknowledged.TryAdd(request.ClientMachineId, "windows")) machines.Add(request.ClientMachineId);
                    Interlocked.Increment(ref answered);
                    await Task.Delay(20);
                }
            });
            while (Volatile.Read(ref answered) < 3 && !client.IsCompleted) await Task.Delay(20);

            acknowledgedBeforeBackup = new Dictionary<Guid, string>(acknowledged);
            var answeredBefore = Volatile.Read(ref answered);
            var (exitCode, stdout, stderr) = await NodeProcess.RunToExitAsync(null, "backup", "--data", source, "--out", backup);
            var answeredDuringBackup = Volatile.Read(ref answered) - answeredBefore;
            await stop.CancelAsync();
            await client;

            Assert.True(exitCode == 0, stderr);
            Assert.StartsWith($"kms-node backup: wrote {backup}: host {hostId}, kms.db (", stdout);
            Assert.Contains("registry.db (", stdout);
            Assert.EndsWith("integrity ok", stdout.Trim());
            Assert.True(answeredDuringBackup > 0, "the client should have been answered while the backup ran");
            AssertOwnerOnly(backup); // it holds the node's private key and admin token
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        var restore = await NodeProcess.RunToExitAsync(null, "restore", "--from", backup, "--data", restored);
        Assert.True(restore.ExitCode == 0, restore.StdErr);
        Assert.StartsWith($"kms-node restore: restored host {hostId} as of ", restore.StdOut);
        AssertOwnerOnly(Path.Combine(restored, "host-signing.key"));
        Assert.False(File.Exists(Path.Combine(restored, "kms.lock")));

        await using (var node = await NodeProcess.StartAsync(restored, NoGrants))
        {
            // The same host: its id, admin token and signing key came with the backup.
            Assert.Equal(hostId, node.HostId);
            Assert.Equal(adminToken, node.AdminToken);
            using var admin = new AdminClient(node);
            foreach (var application in new[] { "windows", "office" })
            {
                var window = await admin.WindowAsync(application);
                var contacts = window.Contacts.Select(c => c.Cmid).ToHashSet();
                var before = acknowledgedBeforeBackup.Where(a => a.Value == application).Select(a => a.Key).ToList();
                Assert.All(before, cmid => Assert.Contains(cmid, contacts));
                // Nothing the source never acknowledged; a contact answered while the backup ran may be in or out.
                Assert.Subset(acknowledged.Where(a => a.Value == application).Select(a => a.Key).ToHashSet(), contacts);
                Assert.Equal(contacts.Count, window.Count);
            }

            // The ledger as the source had it: the same host, not a new one, and no re-activation counted.
            var restoredLedger = await admin.HostKeysAsync();
            Assert.Equal(LedgerRows(ledger), LedgerRows(restoredLedger));
            Assert.All(restoredLedger, key => Assert.Equal(Guid.Parse(hostId), Assert.Single(key.Hosts!).HostId));

            var registry = (await admin.ClientsAsync("limit=1000")).Clients.Select(c => c.Cmid).ToHashSet();
            Assert.All(first, cmid => Assert.Contains(cmid, registry));

            // The restored journal goes on: a new machine counts one more.
            var count = (await admin.WindowAsync("office")).Count;
            await using var connection = await node.OpenConnectionAsync();
            Assert.False((await connection.ActivateAsync(Requests.For("office-ltsc-2024-standard"), Answer)).IsError);
            Assert.Equal(count + 1, (await admin.WindowAsync("office")).Count);
        }
    }

    [Fact]
    public async Task A_postgresql_journal_dumped_and_restored_into_a_new_database_serves_the_same_windows_and_ledger()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "source");
        var identity = Path.Combine(directory.Path, "identity.tar");
        var dump = Path.Combine(directory.Path, "kms.dump");
        var restored = Path.Combine(directory.Path, "restored");
        IReadOnlyList<WindowJson> windows;
        IReadOnlyList<HostKeyLedgerJson> ledger;
        string hostId;

        await using (var node = await NodeProcess.StartAsync(source, [.. NoGrants, "--db", postgres.ConnectionString("kms")]))
        {
            hostId = node.HostId;
            using var admin = new AdminClient(node);
            var machines = await ActivateAsync(node, new ConcurrentDictionary<Guid, string>());
            await WaitForRegistryAsync(admin, machines);
            windows = await admin.WindowsAsync();
            ledger = await admin.HostKeysAsync();

            // Both taken while the node runs: pg_dump reads one snapshot of the database.
            var backup = await NodeProcess.RunToExitAsync(null, "backup", "--data", source, "--out", identity, "--identity-only");
            Assert.True(backup.ExitCode == 0, backup.StdErr);
            Assert.Contains("no journal (identity only)", backup.StdOut);
            await RunPgToolAsync(postgres, "pg_dump", "-Fc", "-f", dump, "kms");
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        await postgres.CreateDatabaseAsync("kms_restored");
        await RunPgToolAsync(postgres, "pg_restore", "--no-owner", "--exit-on-error", "-d", "kms_restored", dump);
        var restore = await NodeProcess.RunToExitAsync(null, "restore", "--from", identity, "--data", restored);
        Assert.True(restore.ExitCode == 0, restore.StdErr);
        Assert.Contains("restore that with pg_restore", restore.StdOut);
        Assert.False(File.Exists(Path.Combine(restored, "kms.db")));

        await using (var node = await NodeProcess.StartAsync(restored, [.. NoGrants, "--db", postgres.ConnectionString("kms_restored")]))
        {
            Assert.Equal(hostId, node.HostId);
            Assert.Equal("postgresql", node.Journal);
            using var admin = new AdminClient(node);
            var after = await admin.WindowsAsync();
            foreach (var window in windows)
            {
                var same = after.Single(w => w.Application == window.Application);
                Assert.Equal(window.Count, same.Count);
                Assert.Equal(window.Contacts, same.Contacts);
            }
            Assert.Equal(LedgerRows(ledger), LedgerRows(await admin.HostKeysAsync()));
            var registry = (await admin.ClientsAsync("limit=1000")).Clients.Select(c => c.Cmid).ToHashSet();
            Assert.Equal(windows.SelectMany(w => w.Contacts).Select(c => c.Cmid).ToHashSet(), registry);
        }
    }

    private static void AssertOwnerOnly(string file)
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    /// <summary>Activates the machines of <see cref="Traffic"/>, each acknowledged; returns their CMIDs in order.</summary>
    private static async Task<IReadOnlyList<Guid>> ActivateAsync(NodeProcess node, ConcurrentDictionary<Guid, string> acknowledged)
    {
        var machines = new List<Guid>();
        await using var connection = await node.OpenConnectionAsync();
        foreach (var (product, application, count) in Traffic)
        {
            for (var i = 0; i < count; i++)
            {
                var request = Requests.For(product);
                var result = await connection.ActivateAsync(request, Answer);
                Assert.False(result.IsError, result.ToString());
                acknowledged[request.ClientMachineId] = application;
                machines.Add(request.ClientMachineId);
            }
        }
        return machines;
    }

    /// <summary>The registry is written in the background: waits until it has every one of <paramref name="machines"/>.</summary>
    private static async Task WaitForRegistryAsync(AdminClient admin, IReadOnlyList<Guid> machines)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var rows = (await admin.ClientsAsync("limit=1000")).Clients.Select(c => c.Cmid).ToHashSet();
            if (machines.All(rows.Contains)) return;
            Assert.True(DateTime.UtcNow < deadline, $"the registry has {rows.Count} of {machines.Count} machines");
            await Task.Delay(100);
        }
    }

    /// <summary>What the ledger says per key, without the last activation's time (a restart may refresh it).</summary>
    private static List<string> LedgerRows(IReadOnlyList<HostKeyLedgerJson> keys) =>
        keys.SelectMany(k => (k.Hosts ?? []).Select(h => $"{k.Key.KeyId} {h.HostId} {h.Name} {h.FirstActivatedAt:O} {h.Reactivations}"))
            .Order(StringComparer.Ordinal).ToList();

    private static async Task RunPgToolAsync(PostgresServer postgres, string tool, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(Path.Combine(postgres.BinDirectory, tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["-h", "127.0.0.1", "-p", postgres.Port.ToString(), "-U", PostgresServer.UserName, .. args])
        {
            info.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} exited with {process.ExitCode}: {await stderr}");
    }
}
