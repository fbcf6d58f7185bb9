using System.Globalization;
using KmsCluster.Testing;

namespace KmsCluster.Bench;

/// <summary>
/// What the journal's sequence guard (JournalSequenceGuard: a high-water upsert per journal row, in a BEFORE INSERT
/// trigger) costs where it matters: one node on PostgreSQL with --grant-lease 0, so every answer waits for its
/// contact's journal commit. The same `kms load` runs with the trigger enabled and disabled
/// (ALTER TABLE journal ENABLE/DISABLE TRIGGER), alternating on, off, on, off... so that the machine's drift falls
/// on both alike; the medians of each are compared.
/// </summary>
internal static class JournalGuardCost
{
    private const string Database = "bench_guard";
    private const string Trigger = "kms_journal_sequence_guard";

    public static async Task RunAsync(PostgresServer server, string results, Func<int, string[]> load, int seconds, int rounds)
    {
        await using var node = await LocalCluster.StartAsync(server, Database, 1, null, ["--grant-lease", "0"]);
        await node.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
        var endpoints = node.Running.Select(n => n.ActivationEndpoint).ToList();
        await KmsLoad.RunAsync(endpoints, results, "guard-warmup", load(3)); // creates the journal, which arms the guard
        for (var waited = 0; !await ArmedAsync(server); waited++)
        {
            if (waited == 60) throw new InvalidOperationException($"the node did not arm {Trigger} on its journal within 30 s");
            await Task.Delay(500);
        }

        var runs = new List<(bool Guarded, KmsLoadResult Result)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var guarded in new[] { true, false })
            {
                await server.ExecuteAsync(Database, $"ALTER TABLE journal {(guarded ? "ENABLE" : "DISABLE")} TRIGGER {Trigger}");
                var result = await KmsLoad.RunAsync(endpoints, results, $"guard-{(guarded ? "on" : "off")}-{round}", load(seconds));
                runs.Add((guarded, result));
                Console.WriteLine(Invariant($"guard {(guarded ? "on " : "off")} round {round}: {result.Throughput:0}/s p50 {result.P50:0.00} ms p99 {result.P99:0.00} ms, {result.Errors} errors"));
            }
        }
        await server.ExecuteAsync(Database, $"ALTER TABLE journal ENABLE TRIGGER {Trigger}");

        var on = runs.Where(r => r.Guarded).Select(r => r.Result).ToList();
        var off = runs.Where(r => !r.Guarded).Select(r => r.Result).ToList();
        Console.WriteLine();
        Console.WriteLine(Invariant($"Journal sequence guard, one node on PostgreSQL, --grant-lease 0 (every answer waits for its commit), {rounds} rounds of {seconds} s each way, medians:"));
        Console.WriteLine();
        Console.WriteLine("| journal | activations/s | ratio | p50 ms | p99 ms | ratio | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Row("plain (trigger disabled)", off, off);
        Row("with the sequence guard", on, off);
    }

    private static async Task<bool> ArmedAsync(PostgresServer server) =>
        Convert.ToInt64(await server.ExecuteScalarAsync(Database,
            "SELECT count(*) FROM pg_trigger WHERE tgname = $1 AND tgrelid = 'journal'::regclass", Trigger), CultureInfo.InvariantCulture) == 1;

    private static void Row(string name, List<KmsLoadResult> runs, List<KmsLoadResult> baseline)
    {
        double Median(List<KmsLoadResult> of, Func<KmsLoadResult, double> value)
        {
            var sorted = of.Select(value).Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }
        var throughput = Median(runs, r => r.Throughput);
        var p99 = Median(runs, r => r.P99);
        Console.WriteLine(Invariant(
            $"| {name} | {throughput:0} | {throughput / Median(baseline, r => r.Throughput):0.00} | {Median(runs, r => r.P50):0.00} | {p99:0.00} | {p99 / Median(baseline, r => r.P99):0.00} | {runs.Sum(r => r.Errors)} |"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
