using System.Globalization;
using KmsCluster.Bench;
using KmsCluster.Testing;

// bench/ClusterBench: one run on this machine, numbers as ratios where they compare setups.
//   dotnet run -c Release --project bench/ClusterBench -- [--runs N] [--seconds S] [--connections C] [--pipeline D]
var runs = Arg("--runs", 5);
var seconds = Arg("--seconds", 15);
var connections = Arg("--connections", 32);
var pipeline = Arg("--pipeline", 8);

await using var database = await PostgresServer.StartAsync();
Console.WriteLine($"PostgreSQL {database.Port}; kms load: {connections} connections x {pipeline} in flight, {seconds} s per setup, 1,000,000 machines");

// Throughput: one node on PostgreSQL, then a 3-node cluster on PostgreSQL, same `kms load` settings, same run.
var results = Directory.CreateTempSubdirectory("kms-cluster-bench-").FullName;
string[] Load(int forSeconds) =>
[
    "--connections", connections.ToString(CultureInfo.InvariantCulture), "--pipeline", pipeline.ToString(CultureInfo.InvariantCulture),
    "--duration", forSeconds.ToString(CultureInfo.InvariantCulture) + "s", "--clients", "1000000", "--product", "windows-11-pro",
];
KmsLoadResult single, triple;
await using (var one = await LocalCluster.StartAsync(database, "bench_single", 1))
{
    await one.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var endpoints = one.Running.Select(n => n.ActivationEndpoint).ToList();
    await KmsLoad.RunAsync(endpoints, results, "single-warmup", Load(3));
    single = await KmsLoad.RunAsync(endpoints, results, "single", Load(seconds));
}
await using (var three = await LocalCluster.StartAsync(database, "bench_triple", 3))
{
    await three.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var endpoints = three.Running.Select(n => n.ActivationEndpoint).ToList();
    await KmsLoad.RunAsync(endpoints, results, "triple-warmup", Load(3));
    triple = await KmsLoad.RunAsync(endpoints, results, "triple", Load(seconds));

    // Failover: kill -9 the Windows window's owner, measure until a survivor answers for it again.
    var times = new List<double>();
    await three.RunAsync(async () =>
    {
        for (var run = 1; run <= runs; run++)
        {
            var took = await Failover.MeasureOnceAsync(three, TimeSpan.FromSeconds(60));
            times.Add(took.TotalSeconds);
            Console.WriteLine($"failover run {run}: {took.TotalSeconds:0.00} s");
        }
    });
    times.Sort();
    Console.WriteLine();
    Console.WriteLine("| setup | activations/s | ratio to one node | p50 ms | p99 ms | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    Row("one node, PostgreSQL", single, single);
    Row("3-node cluster, PostgreSQL", triple, single);
    Console.WriteLine();
    Console.WriteLine($"failover after kill -9 of the owner, {runs} runs: median {Median(times):0.00} s, min {times[0]:0.00} s, max {times[^1]:0.00} s");
}

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
