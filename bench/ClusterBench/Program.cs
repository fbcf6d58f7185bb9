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
Console.WriteLine($"PostgreSQL {database.Port}; load: {connections} connections x {pipeline} in flight, {seconds} s per setup, new machine per request");

// Throughput: one node on PostgreSQL, then a 3-node cluster on PostgreSQL, same load, same run.
LoadResult single, triple;
await using (var one = await LocalCluster.StartAsync(database, "bench_single", 1))
{
    await one.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    await LoadRun.RunAsync(one.Running.Select(n => n.ActivationEndpoint).ToList(), connections, pipeline, TimeSpan.FromSeconds(3), "windows-11-pro");
    single = await LoadRun.RunAsync(one.Running.Select(n => n.ActivationEndpoint).ToList(), connections, pipeline,
        TimeSpan.FromSeconds(seconds), "windows-11-pro");
}
await using (var three = await LocalCluster.StartAsync(database, "bench_triple", 3))
{
    await three.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    var endpoints = three.Running.Select(n => n.ActivationEndpoint).ToList();
    await LoadRun.RunAsync(endpoints, connections, pipeline, TimeSpan.FromSeconds(3), "windows-11-pro");
    triple = await LoadRun.RunAsync(endpoints, connections, pipeline, TimeSpan.FromSeconds(seconds), "windows-11-pro");

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

static void Row(string name, LoadResult result, LoadResult baseline) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {result.PerSecond:0} | {result.PerSecond / baseline.PerSecond:0.00} | {result.P50Milliseconds:0.0} | {result.P99Milliseconds:0.0} | {result.Errors} |"));

static double Median(List<double> sorted) =>
    sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

int Arg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
