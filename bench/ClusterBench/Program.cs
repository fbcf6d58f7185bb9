using System.Globalization;
using KmsCluster.Bench;
using KmsCluster.Testing;

// bench/ClusterBench: one run on this machine, numbers as ratios where they compare setups: throughput of one
// node and of three (full windows), kill -9 of a full window's owner under fleet load, and the failover of a window
// that is not full (grants off), step by step; or (--journal-guard-only) only the journal sequence guard's cost.
//   dotnet run -c Release --project bench/ClusterBench -- [--runs N] [--seconds S] [--connections C] [--pipeline D]
//     [--failover-only] [--journal-guard-only] [--node-arg ARG]...
var runs = Arg("--runs", 5);
var seconds = Arg("--seconds", 15);
var connections = Arg("--connections", 32);
var pipeline = Arg("--pipeline", 8);
var failoverOnly = args.Contains("--failover-only");
// Extra kms-node flags for every node (e.g. --node-arg --log-level --node-arg Debug).
var nodeArgs = args.Select((a, i) => (a, i)).Where(x => x.a == "--node-arg" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToArray();

await using var database = await PostgresServer.StartAsync();
Console.WriteLine($"PostgreSQL {database.Port}; kms load: {connections} connections x {pipeline} in flight, {seconds} s per setup, 1,000,000 machines");

// Throughput: one node on PostgreSQL, then a 3-node cluster on PostgreSQL, same `kms load` settings, same run.
var results = Directory.CreateTempSubdirectory("kms-cluster-bench-").FullName;
string[] Load(int forSeconds) =>
[
    "--connections", connections.ToString(CultureInfo.InvariantCulture), "--pipeline", pipeline.ToString(CultureInfo.InvariantCulture),
    "--duration", forSeconds.ToString(CultureInfo.InvariantCulture) + "s", "--clients", "1000000", "--product", "windows-11-pro",
];
if (args.Contains("--journal-guard-only"))
{
    await JournalGuardCost.RunAsync(database, results, Load, seconds, runs);
    return;
}
KmsLoadResult? single = null, triple = null;
if (!failoverOnly)
{
    await using var one = await LocalCluster.StartAsync(database, "bench_single", 1, null, nodeArgs);
    await one.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var endpoints = one.Running.Select(n => n.ActivationEndpoint).ToList();
    await KmsLoad.RunAsync(endpoints, results, "single-warmup", Load(3));
    single = await KmsLoad.RunAsync(endpoints, results, "single", Load(seconds));
}
FleetFailoverResult? fleetKill = null;
if (!failoverOnly)
{
    await using var three = await LocalCluster.StartAsync(database, "bench_triple", 3, null, [.. nodeArgs, .. FleetFailover.NodeArgs]);
    await three.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var endpoints = three.Running.Select(n => n.ActivationEndpoint).ToList();
    await KmsLoad.RunAsync(endpoints, results, "triple-warmup", Load(3));
    triple = await KmsLoad.RunAsync(endpoints, results, "triple", Load(seconds));
    // kill -9 of a full window's owner while a fleet renews through all three nodes.
    await three.RunAsync(async () => fleetKill = await FleetFailover.MeasureAsync(three, results));
}

// Failover of a window that is not full: with grants off every contact takes the durable path a filling window
// takes, so the probes' answers wait for the window at its new home.
await using (var three = await LocalCluster.StartAsync(database, "bench_failover", 3, null, [.. nodeArgs, "--grant-lease", "0"]))
{
    await three.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var failovers = new List<FailoverSteps>();
    await three.RunAsync(async () =>
    {
        for (var run = 1; run <= runs; run++)
        {
            var steps = await Failover.MeasureOnceAsync(three, TimeSpan.FromSeconds(60));
            failovers.Add(steps);
            Console.WriteLine($"failover run {run}: {steps.Answered:0.00} s");
        }
    });
    if (single is not null && triple is not null)
    {
        Console.WriteLine();
        Console.WriteLine("| setup | activations/s | ratio to one node | p50 ms | p99 ms | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Row("one node, PostgreSQL", single, single);
        Row("3-node cluster, PostgreSQL", triple, single);
    }
    if (fleetKill is not null)
    {
        Console.WriteLine();
        Console.WriteLine(FleetFailoverResult.Header);
        Console.WriteLine(fleetKill);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"target: 0 failed or timed-out requests and p99 around the kill <= 3 x steady: {(fleetKill.Load.Errors == 0 && fleetKill.P99AroundKill <= 3 * fleetKill.SteadyP99 ? "met" : "NOT met")}"));
    }
    Console.WriteLine();
    Console.WriteLine("Seconds after the kill at which the survivors logged each step (c: the killed node was the oldest, the sharding coordinator moved too):");
    Console.WriteLine();
    Console.WriteLine("| run | unreachable | SBR decided | removed by leader | removal seen by all | window recovered | first answer |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    for (var i = 0; i < failovers.Count; i++)
    {
        var f = failovers[i];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {i + 1}{(f.KilledCoordinator ? " c" : "")} | {S(f.Unreachable)} | {S(f.Decided)} | {S(f.RemovedByLeader)} | {S(f.RemovedEverywhere)} | {S(f.Recovered)} | {f.Answered:0.00} |"));
    }
    double? MedianOf(Func<FailoverSteps, double?> step)
    {
        var values = failovers.Select(step).Where(v => v is not null).Select(v => v!.Value).Order().ToList();
        return values.Count == 0 ? null : Median(values);
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| median | {S(MedianOf(f => f.Unreachable))} | {S(MedianOf(f => f.Decided))} | {S(MedianOf(f => f.RemovedByLeader))} | {S(MedianOf(f => f.RemovedEverywhere))} | {S(MedianOf(f => f.Recovered))} | {S(MedianOf(f => f.Answered))} |"));
    var times = failovers.Select(f => f.Answered).Order().ToList();
    Console.WriteLine();
    Console.WriteLine($"failover after kill -9 of the owner, {runs} runs: median {Median(times):0.00} s, min {times[0]:0.00} s, max {times[^1]:0.00} s");
}

static string S(double? seconds) => seconds is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) : "-";

static void Row(string name, KmsLoadResult result, KmsLoadResult baseline) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {result.Throughput:0} | {result.Throughput / baseline.Throughput:0.00} | {result.P50:0.0} | {result.P99:0.0} | {result.Errors} |"));

static double Median(List<double> sorted) =>
    sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

int Arg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
