using System.Globalization;
using KmsCluster.Bench.Load;
using KmsCluster.Testing;

// bench/run.sh runs this: the Kestrel echo baseline, one node on SQLite and a 3-node cluster on PostgreSQL,
// each under the same `kms load` settings in one run, as ratios to the baseline (also with a connection per
// request, as KMS clients connect); then cost growth.
//   dotnet run -c Release --project bench/LoadBench -- [--seconds 15] [--warmup 10] [--skip-cluster] [--skip-growth]
var seconds = Option("--seconds", 15);
var warmup = Option("--warmup", 10);
var results = Directory.CreateTempSubdirectory("kms-bench-").FullName;
Console.WriteLine($"kms load reports (JSON and text) go to {results}");
Console.WriteLine($"each setup: {warmup} s warm-up, then {seconds} s per measurement; 1,000,000 simulated machines in the default fleet mix");

var setups = new List<SetupResult>();
await using (var echo = await EchoProcess.StartAsync())
{
    setups.Add(await MeasureAsync("echo baseline (Kestrel, no work)", "echo", [echo.Endpoint]));
}
using (var data = new TempDirectory())
await using (var node = await NodeProcess.StartAsync(data.Path, "--name", "bench"))
{
    setups.Add(await MeasureAsync("one node, SQLite", "sqlite", [node.ActivationEndpoint]));
}
if (!args.Contains("--skip-cluster"))
{
    await using var database = await PostgresServer.StartAsync();
    // LocalCluster names its nodes node0..node2: as long as "bench", so the answers are the same size.
    await using var cluster = await LocalCluster.StartAsync(database, "bench_load", 3, null);
    await cluster.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
    setups.Add(await MeasureAsync("3-node cluster, PostgreSQL", "cluster", cluster.Running.Select(n => n.ActivationEndpoint).ToList()));
}

var baseline = setups[0];
Console.WriteLine();
Console.WriteLine("| setup | C=64 D=1 activations/s | ratio to echo | p99 ms | C=64 D=16 activations/s | ratio to echo | p99 ms | open loop at half the D=16 rate: rate | p99 ms | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var setup in setups)
{
    var errors = setup.Single.Errors + setup.Pipelined.Errors + setup.AtHalfRate.Errors;
    Console.WriteLine(Invariant($"| {setup.Name} | {setup.Single.Throughput:0} | {setup.Single.Throughput / baseline.Single.Throughput:0.00} | {setup.Single.P99:0.00} | {setup.Pipelined.Throughput:0} | {setup.Pipelined.Throughput / baseline.Pipelined.Throughput:0.00} | {setup.Pipelined.P99:0.00} | {setup.HalfRate:0} | {setup.AtHalfRate.P99:0.00} | {errors} |"));
}
Console.WriteLine();
Console.WriteLine("| setup | C=64 connection per request activations/s | ratio to echo | p99 ms | connections/s | connect errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var setup in setups)
{
    var perRequest = setup.PerRequest;
    Console.WriteLine(Invariant($"| {setup.Name} | {perRequest.Throughput:0} | {perRequest.Throughput / baseline.PerRequest.Throughput:0.00} | {perRequest.P99:0.00} | {perRequest.ConnectionsPerSecond:0} | {perRequest.ConnectErrors} |"));
}
if (setups.FirstOrDefault(s => s.Key == "sqlite") is { } sqlite)
{
    Console.WriteLine();
    var perRequestRatio = sqlite.PerRequest.Throughput / baseline.PerRequest.Throughput;
    Target("one node, C=64 connection per request >= 0.7 x echo in the same mode", perRequestRatio >= 0.7, Invariant($"{perRequestRatio:0.00} x echo"));
    var ratio = sqlite.Single.Throughput / baseline.Single.Throughput;
    Target("one node, every contact durable, C=64 D=1 >= 0.6 x echo", ratio >= 0.6, Invariant($"{ratio:0.00} x echo"));
    Target("one node, C=64 D=16 >= 100,000 durable activations/s", sqlite.Pipelined.Throughput >= 100_000, Invariant($"{sqlite.Pipelined.Throughput:0}/s"));
    Target("one node, p99 at half the maximum rate <= 5 ms", sqlite.AtHalfRate.P99 <= 5, Invariant($"p99 {sqlite.AtHalfRate.P99:0.00} ms"));
}

if (!args.Contains("--skip-growth"))
{
    await CostGrowthAsync();
}
return 0;

async Task<SetupResult> MeasureAsync(string name, string key, IReadOnlyList<string> servers)
{
    Console.WriteLine($"{name}: {string.Join(", ", servers)}");
    // JIT tiering, connection set-up and window start-up are not what is measured.
    await KmsLoad.RunAsync(servers, results, $"{key}-warmup", Load(64, 16, warmup));
    var single = await KmsLoad.RunAsync(servers, results, $"{key}-c64-d1", Load(64, 1, seconds));
    var pipelined = await KmsLoad.RunAsync(servers, results, $"{key}-c64-d16", Load(64, 16, seconds));
    var halfRate = Math.Max(1, Math.Round(pipelined.Throughput / 2));
    var atHalfRate = await KmsLoad.RunAsync(servers, results, $"{key}-half-rate",
        [.. Load(64, 16, seconds), "--rate", halfRate.ToString(CultureInfo.InvariantCulture)]);
    // As KMS clients connect: each request opens its own connection and closes it after the answer.
    var perRequest = await KmsLoad.RunAsync(servers, results, $"{key}-c64-per-request", [.. Load(64, 1, seconds), "--connect-per-request"]);
    Console.WriteLine(Invariant($"  D=1 {single.Throughput:0}/s p99 {single.P99:0.00} ms; D=16 {pipelined.Throughput:0}/s p99 {pipelined.P99:0.00} ms; {halfRate:0}/s open loop p99 {atHalfRate.P99:0.00} ms; connection per request {perRequest.Throughput:0}/s p99 {perRequest.P99:0.00} ms"));
    return new SetupResult(name, key, single, pipelined, halfRate, atHalfRate, perRequest);
}

// Distinct machines 10k, 100k, 1M on a fresh SQLite node: each stage brings machines never seen before.
async Task CostGrowthAsync()
{
    using var data = new TempDirectory();
    await using var node = await NodeProcess.StartAsync(data.Path, "--name", "bench");
    Console.WriteLine();
    Console.WriteLine("Cost growth, one node on SQLite, C=64 D=16, every request a machine never seen before:");
    Console.WriteLine();
    Console.WriteLine("| distinct machines so far | activations/s in this stage | p99 ms | node memory (RSS) MiB | database on disk MiB |");
    Console.WriteLine("|---:|---:|---:|---:|---:|");
    Console.WriteLine(Invariant($"| 0 (started) | | | {ResidentMiB(node.ProcessId):0} | {DatabaseMiB(data.Path):0.0} |"));
    var seen = 0;
    var seed = 100;
    foreach (var total in new[] { 10_000, 100_000, 1_000_000 })
    {
        var fresh = total - seen;
        var stage = await KmsLoad.RunAsync([node.ActivationEndpoint], results, $"growth-{total}",
            "--connections", "64", "--pipeline", "16", "--clients", fresh.ToString(CultureInfo.InvariantCulture),
            "--requests", fresh.ToString(CultureInfo.InvariantCulture), "--seed", (seed++).ToString(CultureInfo.InvariantCulture));
        seen = total;
        Console.WriteLine(Invariant($"| {total:N0} | {stage.Throughput:0} | {stage.P99:0.00} | {ResidentMiB(node.ProcessId):0} | {DatabaseMiB(data.Path):0.0} |"));
    }
}

static string[] Load(int connections, int pipeline, int seconds) =>
[
    "--connections", connections.ToString(CultureInfo.InvariantCulture),
    "--pipeline", pipeline.ToString(CultureInfo.InvariantCulture),
    "--duration", seconds.ToString(CultureInfo.InvariantCulture) + "s",
    "--clients", "1000000",
];

static double ResidentMiB(int processId)
{
    var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
}

// The journal file and its write-ahead log: what the node keeps on disk.
static double DatabaseMiB(string dataDirectory) =>
    Directory.GetFiles(dataDirectory, "kms.db*").Sum(f => new FileInfo(f).Length) / 1024.0 / 1024.0;

static void Target(string name, bool met, string measured) =>
    Console.WriteLine($"target {name}: {(met ? "met" : "NOT met")} ({measured})");

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record SetupResult(string Name, string Key, KmsLoadResult Single, KmsLoadResult Pipelined, double HalfRate, KmsLoadResult AtHalfRate,
    KmsLoadResult PerRequest);
