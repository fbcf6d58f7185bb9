using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KmsCluster.Testing;

namespace KmsCluster.Bench;

/// <summary>
/// kill -9 of the owner of a full window while a simulated fleet renews through all three nodes: every request
/// must still be answered (clients whose node died fail over to the next, as KMS clients do), and the p99 of the
/// seconds around the kill is compared with the steady p99 before it. The fleet: machines start spread over
/// the first activation interval and renew every 15 minutes (the nodes' --renewal-interval), at 720 simulated
/// seconds per real second, so every machine asks about every 1.25 s once it has started; like KMS clients,
/// each request opens a connection of its own.
/// </summary>
internal static class FleetFailover
{
    /// <summary>Node flags that make the fleet renew often enough for a steady load.</summary>
    public static readonly string[] NodeArgs = ["--activation-interval", "15m", "--renewal-interval", "15m"];

    public static async Task<FleetFailoverResult> MeasureAsync(LocalCluster cluster, string resultsDirectory,
        int machines = 10_000, int seconds = 30, int killAfterSeconds = 18)
    {
        var endpoints = cluster.Running.Select(n => n.ActivationEndpoint).ToList();
        // Fill every window first: a full window answers on every node from its grant.
        await KmsLoad.RunAsync(endpoints, resultsDirectory, "fleet-fill", "--connections", "32", "--pipeline", "8",
            "--duration", "3s", "--clients", "1000000");
        var owner = await cluster.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));

        var started = Stopwatch.StartNew();
        var load = KmsLoad.RunAsync(endpoints, resultsDirectory, "fleet-kill", "--fleet", "--clients",
            machines.ToString(CultureInfo.InvariantCulture), "--connections", "64", "--connect-per-request", "--time-scale", "720",
            "--duration", seconds.ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "10s");
        await Task.Delay(TimeSpan.FromSeconds(killAfterSeconds));
        cluster.Nodes[owner]!.Kill();
        var killedAt = started.Elapsed;
        var result = await load;

        // The report's seconds count from the run's start, a little after the process started: the kill falls in
        // the second named by its time since the process start, or the one before.
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(resultsDirectory, "fleet-kill.json")));
        var timeline = report.RootElement.GetProperty("timeline").EnumerateArray()
            .Select(t => (Second: t.GetProperty("second").GetInt32(), P99: P99(t))).ToArray();
        var killSecond = (int)Math.Ceiling(killedAt.TotalSeconds);
        var around = timeline.Where(t => t.Second >= killSecond - 1 && t.Second <= killSecond + 1 && t.P99 is not null)
            .Max(t => t.P99!.Value);
        // Steady: after the start-up spread (the first activation interval, 10 s) and before the kill.
        var steady = Median(timeline.Where(t => t.Second > 10 && t.Second < killSecond - 1 && t.P99 is not null)
            .Select(t => t.P99!.Value).ToList());
        return new FleetFailoverResult(result, owner, killedAt, steady, around);
    }

    private static double? P99(JsonElement point) =>
        point.GetProperty("p99Ms").ValueKind == JsonValueKind.Number ? point.GetProperty("p99Ms").GetDouble() : null;

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }
}

/// <param name="Load">The fleet's whole run.</param>
/// <param name="SteadyP99">Median of the per-second p99 before the kill, ms.</param>
/// <param name="P99AroundKill">Highest per-second p99 in the second of the kill and the ones either side, ms.</param>
internal sealed record FleetFailoverResult(KmsLoadResult Load, int KilledNode, TimeSpan KilledAt, double SteadyP99, double P99AroundKill)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"| kill -9 of a full window's owner under fleet load (3 nodes) | {Load.Answers} | {Load.Errors} | {Load.ConnectErrors} | " +
        $"{SteadyP99:0.0} | {P99AroundKill:0.0} | {P99AroundKill / SteadyP99:0.00} |");

    public const string Header = "| setup | answers | failed or timed out | connect errors | steady p99 ms | p99 around the kill ms | ratio |\n" +
                                 "|---|---:|---:|---:|---:|---:|---:|";
}
