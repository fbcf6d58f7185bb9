using System.Diagnostics;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Bench.Load;

/// <summary>
/// What the client registry costs (issue 14): one node with --client-registry off and one with it on, each fresh,
/// under the same closed-loop load (1,000,000 machines, C=64, D=1 and D=16), target on >= 0.95 x off; the on node's
/// feed counters (rows written, answers dropped) after its runs; then page queries on a registry of 1,000,000 rows.
/// </summary>
internal static class RegistryBench
{
    private const int RowCount = 1_000_000;

    public static async Task RunAsync(LoadRuns runs, int warmup)
    {
        SetupResult off, on;
        ClientRegistryStatsJson? feed;
        using (var data = new TempDirectory())
        await using (var node = await NodeProcess.StartAsync(data.Path, "--name", "bench", "--client-registry", "off"))
        {
            off = await runs.ClosedSetAsync("one node, SQLite, full windows, client registry off", "registry-off",
                [node.ActivationEndpoint], LoadRuns.FullWindows, warmup);
        }
        using (var data = new TempDirectory())
        await using (var node = await NodeProcess.StartAsync(data.Path, "--name", "bench", "--client-registry", "on"))
        {
            on = await runs.ClosedSetAsync("one node, SQLite, full windows, client registry on", "registry-on",
                [node.ActivationEndpoint], LoadRuns.FullWindows, warmup);
            // What the writer kept up with: written rows (one per machine and flush) against dropped answers.
            await Task.Delay(ClientRegistryFlush);
            using var admin = new AdminClient(node);
            feed = (await admin.StatsAsync()).ClientRegistry;
        }
        Console.WriteLine();
        Console.WriteLine("Client registry, one node on SQLite, full windows, C=64:");
        Console.WriteLine();
        Console.WriteLine("| registry | D=1 activations/s | p99 ms | D=16 activations/s | p99 ms | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, s) in new[] { ("off", off), ("on", on) })
        {
            Console.WriteLine(Report.Invariant($"| {name} | {s.Single.Throughput:0} | {s.Single.P99:0.00} | {s.Pipelined.Throughput:0} | {s.Pipelined.P99:0.00} | {s.Errors} |"));
        }
        if (feed is not null)
        {
            Console.WriteLine(Report.Invariant($"registry feed after the on runs: {feed.Written} rows written, {feed.Dropped} answers dropped, {feed.Pending} pending"));
        }
        Report.RegistryTargets(off, on);
        await PageQueriesAsync();
    }

    private static readonly TimeSpan ClientRegistryFlush = TimeSpan.FromSeconds(3);

    /// <summary>A fresh node's registry filled with 1,000,000 rows (written into its stopped database), then each page
    /// query asked 5 times over the admin API (the first is not counted: connections and query plans warm up).</summary>
    public static async Task PageQueriesAsync()
    {
        using var data = new TempDirectory();
        await using (var node = await NodeProcess.StartAsync(data.Path, "--name", "bench"))
        {
            await node.StopGracefullyAsync();
        }
        var now = DateTimeOffset.UtcNow;
        var products = new[] { "windows-11-pro", "windows-11-enterprise", "windows-server-2025-standard", "office-ltsc-2024-professional-plus" };
        var filling = Stopwatch.StartNew();
        RegistryRows.Insert(Path.Combine(data.Path, "registry.db"), Enumerable.Range(0, RowCount).Select(i =>
            new RegistryRows.Row(Guid.NewGuid(), "WS-" + i, products[i % products.Length],
                now.AddSeconds(-i * 30L), i % 5 != 0)));
        Console.WriteLine(Report.Invariant($"{RowCount:N0} registry rows written in {filling.Elapsed.TotalSeconds:0.0} s"));

        await using var restarted = await NodeProcess.StartAsync(data.Path, "--name", "bench");
        using var admin = new AdminClient(restarted);
        Console.WriteLine();
        Console.WriteLine($"Page queries (100 rows) on {RowCount:N0} registry rows, one node on SQLite, median of 4 after one warm-up:");
        Console.WriteLine();
        Console.WriteLine("| query | ms | rows |");
        Console.WriteLine("|---|---:|---:|");
        var first = await admin.ClientsAsync("limit=100");
        foreach (var query in new[]
                 {
                     "limit=100",
                     "limit=100&after=" + first.Next,
                     "limit=100&product=windows-11-pro&activated=true",
                     "limit=100&activated=false&silentFor=14d",
                     "limit=100&expiringWithin=30d",
                     "limit=100&expiringWithin=30d&product=windows-11-pro",
                     "limit=100&search=WS-99999",
                     "limit=100&search=ws-",
                 })
        {
            var times = new List<double>();
            ClientsPageJson page = first;
            for (var i = 0; i < 5; i++)
            {
                var started = Stopwatch.GetTimestamp();
                page = await admin.ClientsAsync(query);
                if (i > 0) times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine(Report.Invariant($"| `{query}` | {(times[1] + times[2]) / 2:0.0} | {page.Clients.Count} |"));
        }
    }
}
