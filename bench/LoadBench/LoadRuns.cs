using System.Globalization;
using KmsCluster.Testing;

namespace KmsCluster.Bench.Load;

/// <summary>What one setup measured: closed loop C=64 at D=1 and D=16, and where the setup runs them, the open
/// loop at half its D=16 rate and C=64 with a connection per request.</summary>
internal sealed record SetupResult(string Name, string Key, KmsLoadResult Single, KmsLoadResult Pipelined)
{
    public OpenLoop? HalfRate { get; init; }

    public KmsLoadResult? PerRequest { get; init; }

    public long Errors => Single.Errors + Pipelined.Errors + (HalfRate?.Result.Errors ?? 0) + (PerRequest?.Errors ?? 0);
}

/// <summary>An open-loop run at a fixed rate (requests per second in total).</summary>
internal sealed record OpenLoop(double Rate, KmsLoadResult Result);

/// <summary>
/// The `kms load` runs of the benchmark, each as its own process with C=64 connections, the run's warm-up and
/// measurement lengths; every report is kept in the results directory under the setup's key.
/// </summary>
internal sealed class LoadRuns(string results, int seconds, int warmup)
{
    /// <summary>1,000,000 simulated machines in the default fleet mix: nearly every request is a machine the
    /// window has not seen, and every window is full (2 x the highest threshold contacts) within the warm-up.</summary>
    public static readonly string[] FullWindows = ["--clients", "1000000"];

    /// <summary>40 machines of one Windows client edition (threshold 25, capacity 50): the window never fills,
    /// so every contact is durable (fsync) before its answer.</summary>
    public static readonly string[] NeverFull = ["--clients", "40", "--product", "windows-11-pro"];

    private const int Connections = 64;

    private const string OpenLoopWarmup = "3s";

    /// <summary>Everything: warm-up, D=1, D=16, open loop at half the D=16 rate, connection per request.</summary>
    public async Task<SetupResult> FullSetAsync(string name, string key, IReadOnlyList<string> servers)
    {
        Console.WriteLine($"{name}: {string.Join(", ", servers)}");
        await RunAsync(servers, $"{key}-warmup", Load(16, warmup, FullWindows));
        var (single, pipelined) = await ClosedLoopsAsync(servers, key, FullWindows);
        var halfRate = await OpenLoopAsync(servers, $"{key}-half-rate", Math.Max(1, Math.Round(pipelined.Throughput / 2)));
        // As KMS clients connect: each request opens its own connection and closes it after the answer.
        var perRequest = await RunAsync(servers, $"{key}-c64-per-request", [.. Load(1, seconds, FullWindows), "--connect-per-request"]);
        Console.WriteLine(Report.Invariant($"  {halfRate.Rate:0}/s open loop p99 {halfRate.Result.P99:0.00} ms; connection per request {perRequest.Throughput:0}/s p99 {perRequest.P99:0.00} ms"));
        return new SetupResult(name, key, single, pipelined) { HalfRate = halfRate, PerRequest = perRequest };
    }

    /// <summary>A warm-up of <paramref name="warmupSeconds"/>, then the closed loop at D=1 and D=16 only.</summary>
    public async Task<SetupResult> ClosedSetAsync(string name, string key, IReadOnlyList<string> servers, string[] machines, int warmupSeconds)
    {
        Console.WriteLine($"{name}: {string.Join(", ", servers)}");
        await RunAsync(servers, $"{key}-warmup", Load(16, warmupSeconds, machines));
        var (single, pipelined) = await ClosedLoopsAsync(servers, key, machines);
        return new SetupResult(name, key, single, pipelined);
    }

    /// <summary>Open loop, C=64 D=16, <paramref name="rate"/> requests/s on the full-window load; latency counts
    /// from each request's scheduled time, so the generator cannot hide a stall. The first seconds at that rate are
    /// a warm-up (a fresh `kms load` process starting up, the load's onset) and not reported: a steady-state p99.</summary>
    public async Task<OpenLoop> OpenLoopAsync(IReadOnlyList<string> servers, string label, double rate)
    {
        var result = await RunAsync(servers, label, [.. Load(16, seconds, FullWindows), "--rate", rate.ToString("0", CultureInfo.InvariantCulture),
            "--warmup", OpenLoopWarmup]);
        return new OpenLoop(rate, result);
    }

    private async Task<(KmsLoadResult Single, KmsLoadResult Pipelined)> ClosedLoopsAsync(IReadOnlyList<string> servers, string key, string[] machines)
    {
        var single = await RunAsync(servers, $"{key}-c64-d1", Load(1, seconds, machines));
        var pipelined = await RunAsync(servers, $"{key}-c64-d16", Load(16, seconds, machines));
        Console.WriteLine(Report.Invariant($"  D=1 {single.Throughput:0}/s p99 {single.P99:0.00} ms; D=16 {pipelined.Throughput:0}/s p99 {pipelined.P99:0.00} ms"));
        return (single, pipelined);
    }

    private Task<KmsLoadResult> RunAsync(IReadOnlyList<string> servers, string label, string[] arguments) =>
        KmsLoad.RunAsync(servers, results, label, arguments);

    private static string[] Load(int pipeline, int durationSeconds, string[] machines) =>
    [
        "--connections", Connections.ToString(CultureInfo.InvariantCulture),
        "--pipeline", pipeline.ToString(CultureInfo.InvariantCulture),
        "--duration", durationSeconds.ToString(CultureInfo.InvariantCulture) + "s",
        .. machines,
    ];
}
