using System.Globalization;
using KmsCluster.Bench.Load;
using KmsCluster.Testing;

// bench/run.sh runs this: the Kestrel echo baseline, one node on SQLite and a 3-node cluster on PostgreSQL,
// each under the same `kms load` settings in one run, as ratios to the baseline and to one node (also with a
// connection per request, as KMS clients connect); one node also with grants off and with a window that never
// fills; the targets of issue 12, each printed as met or not met; signing on vs off (issue 13); the client registry
// on vs off and page queries on 1,000,000 registry rows (issue 14); then cost growth.
//   dotnet run -c Release --project bench/LoadBench -- [--seconds 15] [--warmup 10] [--skip-grants-off]
//       [--skip-cluster] [--skip-growth] [--skip-signing] [--skip-registry] | --registry-pages-only
// With --abuse only the abuse limits section runs (issue 15): [--seconds 5] [--warmup 3] [--abuse-rate 20000].
if (args is ["--abuse-attacker", var attack, var port])
{
    // One attacker of the abuse section, in a process of its own (started by AbuseBench at nice 19).
    return await AbuseBench.AttackerAsync(attack, int.Parse(port, CultureInfo.InvariantCulture));
}
if (args.Contains("--registry-pages-only"))
{
    // Only the page queries on 1,000,000 registry rows (a few minutes): for work on the registry's queries.
    await RegistryBench.PageQueriesAsync();
    return 0;
}
var abuse = args.Contains("--abuse");
var seconds = Option("--seconds", abuse ? 5 : 15);
var warmup = Option("--warmup", abuse ? 3 : 10);
var results = Directory.CreateTempSubdirectory("kms-bench-").FullName;
Console.WriteLine($"kms load reports (JSON and text) go to {results}");
if (abuse)
{
    await AbuseBench.RunAsync(results, seconds, warmup, Option("--abuse-rate", 20_000));
    return 0;
}
Console.WriteLine($"each setup: {warmup} s warm-up, then {seconds} s per measurement; 1,000,000 simulated machines in the default fleet mix (full windows) unless said otherwise");

var runs = new LoadRuns(results, seconds, warmup);
// For the rows that measure the closed loop only (and the second setup on a node, whose JIT is warm).
var shortWarmup = Math.Max(1, warmup / 2);
SetupResult echo, node;
OpenLoop echoAtNodeRate;
var others = new List<SetupResult>();
await using (var echoProcess = await EchoProcess.StartAsync())
{
    echo = await runs.FullSetAsync("echo baseline (Kestrel, no work)", "echo", [echoProcess.Endpoint]);
    using (var data = new TempDirectory())
    await using (var sqlite = await NodeProcess.StartAsync(data.Path, "--name", "bench"))
    {
        // First, while no window is full: 40 machines of one Windows client edition never fill theirs (threshold
        // 25, capacity 50), so every contact is durable before its answer, the path of every window before grants.
        var neverFull = await runs.ClosedSetAsync("one node, SQLite, a window that never fills (40 machines, every contact durable)",
            "sqlite-never-full", [sqlite.ActivationEndpoint], LoadRuns.NeverFull, shortWarmup);
        node = await runs.FullSetAsync("one node, SQLite, full windows", "sqlite", [sqlite.ActivationEndpoint]);
        others.Add(neverFull);
    }
    // Both p99s at the same rate: the echo's open loop at the node's half rate too, with the node stopped.
    echoAtNodeRate = await runs.OpenLoopAsync([echoProcess.Endpoint], "echo-at-node-half-rate", node.HalfRate!.Rate);
    Console.WriteLine(Report.Invariant($"echo at the node's half rate {echoAtNodeRate.Rate:0}/s: open loop p99 {echoAtNodeRate.Result.P99:0.00} ms"));
}
if (!args.Contains("--skip-grants-off"))
{
    // What grants buy: the same full windows, every contact durable before its answer.
    using var data = new TempDirectory();
    await using var noGrants = await NodeProcess.StartAsync(data.Path, "--name", "bench", "--grant-lease", "0");
    others.Insert(0, await runs.ClosedSetAsync("one node, SQLite, full windows, grants off (--grant-lease 0)", "sqlite-no-grants",
        [noGrants.ActivationEndpoint], LoadRuns.FullWindows, shortWarmup));
}
if (!args.Contains("--skip-cluster"))
{
    await using var database = await PostgresServer.StartAsync();
    // LocalCluster names its nodes node0..node2: as long as "bench", so the answers are the same size.
    await using var cluster = await LocalCluster.StartAsync(database, "bench_load", 3, null);
    await cluster.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    others.Add(await runs.FullSetAsync("3-node cluster, PostgreSQL, full windows", "cluster",
        cluster.Running.Select(n => n.ActivationEndpoint).ToList()));
}

Report.Print(echo, node, others, echoAtNodeRate);
if (!args.Contains("--skip-signing"))
{
    // Signing on vs off on one node: started with --allow-unsigned, loaded with v1 (answers unsigned, the path of
    // before issue 13) and with v2 (a nonce per request, every answer signed in batches), same machines, same node.
    using var data = new TempDirectory();
    await using var lenient = await NodeProcess.StartAsync(data.Path, "--name", "bench", "--allow-unsigned");
    var unsigned = await runs.ClosedSetAsync("one node, SQLite, full windows, unsigned (v1, --allow-unsigned)", "sqlite-unsigned",
        [lenient.ActivationEndpoint], [.. LoadRuns.FullWindows, "--protocol", "1"], warmup);
    var signed = await runs.ClosedSetAsync("the same node, signed answers (v2)", "sqlite-signed",
        [lenient.ActivationEndpoint], LoadRuns.FullWindows, shortWarmup);
    Report.Signing(unsigned, signed);
}
if (!args.Contains("--skip-registry"))
{
    await RegistryBench.RunAsync(runs, warmup);
}
if (!args.Contains("--skip-growth"))
{
    await CostGrowth.RunAsync(results);
}
return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
