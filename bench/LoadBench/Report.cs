using System.Globalization;

namespace KmsCluster.Bench.Load;

/// <summary>
/// The run's tables (closed loop, open loop, connection per request) as ratios within the run, and the targets
/// of issue 12, each printed as met or not met: a missed target never fails the run.
/// </summary>
internal static class Report
{
    /// <param name="echo">The echo baseline.</param>
    /// <param name="node">One node on SQLite with full windows: "one node" in every ratio to one node.</param>
    /// <param name="others">Further setups, printed after the node in this order (no grants, never-full window, cluster).</param>
    /// <param name="echoAtNodeRate">The echo in the open loop at the node's half rate.</param>
    public static void Print(SetupResult echo, SetupResult node, IReadOnlyList<SetupResult> others, OpenLoop echoAtNodeRate)
    {
        List<SetupResult> setups = [echo, node, .. others];
        Console.WriteLine();
        Console.WriteLine("Closed loop, C=64 (ratios: to the echo, and to one node = the SQLite node with full windows):");
        Console.WriteLine();
        Console.WriteLine("| setup | D=1 activations/s | ratio to echo | ratio to one node | p99 ms | D=16 activations/s | ratio to echo | ratio to one node | p99 ms | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in setups)
        {
            var toNode = s == echo ? "" : Invariant($"{s.Single.Throughput / node.Single.Throughput:0.00}");
            var toNodePipelined = s == echo ? "" : Invariant($"{s.Pipelined.Throughput / node.Pipelined.Throughput:0.00}");
            Console.WriteLine(Invariant($"| {s.Name} | {s.Single.Throughput:0} | {s.Single.Throughput / echo.Single.Throughput:0.00} | {toNode} | {s.Single.P99:0.00} | {s.Pipelined.Throughput:0} | {s.Pipelined.Throughput / echo.Pipelined.Throughput:0.00} | {toNodePipelined} | {s.Pipelined.P99:0.00} | {s.Errors} |"));
        }

        Console.WriteLine();
        Console.WriteLine("Open loop, C=64 D=16, at half the setup's own D=16 rate (latency from each request's scheduled time); the echo also at the node's half rate:");
        Console.WriteLine();
        Console.WriteLine("| setup | rate/s | p50 ms | p99 ms | p99.9 ms | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var s in setups.Where(s => s.HalfRate is not null))
        {
            OpenLoopRow(s.Name + ", at half its own D=16 rate", s.HalfRate!);
            if (s == node) OpenLoopRow(echo.Name + ", at the node's half rate", echoAtNodeRate);
        }

        Console.WriteLine();
        Console.WriteLine("C=64, a connection per request (as KMS clients connect):");
        Console.WriteLine();
        Console.WriteLine("| setup | activations/s | ratio to echo | p99 ms | connections/s | connect errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var s in setups.Where(s => s.PerRequest is not null))
        {
            var perRequest = s.PerRequest!;
            Console.WriteLine(Invariant($"| {s.Name} | {perRequest.Throughput:0} | {perRequest.Throughput / echo.PerRequest!.Throughput:0.00} | {perRequest.P99:0.00} | {perRequest.ConnectionsPerSecond:0} | {perRequest.ConnectErrors} |"));
        }

        Console.WriteLine();
        var ratio = node.Single.Throughput / echo.Single.Throughput;
        Target("one node (SQLite), full windows, C=64 D=1 >= 0.6 x echo", ratio >= 0.6, Invariant($"{ratio:0.00} x echo"));
        if (others.FirstOrDefault(s => s.Key == "cluster") is { } cluster)
        {
            var toNode = cluster.Single.Throughput / node.Single.Throughput;
            Target("3-node cluster (PostgreSQL), full windows, C=64 D=1 >= 0.8 x one node (the SQLite node above)", toNode >= 0.8,
                Invariant($"{toNode:0.00} x one node"));
        }
        var limit = echoAtNodeRate.Result.P99 + 2;
        Target("one node, p99 at half its maximum (D=16) rate <= the echo's p99 at that rate + 2 ms", node.HalfRate!.Result.P99 <= limit,
            Invariant($"p99 {node.HalfRate.Result.P99:0.00} ms at {node.HalfRate.Rate:0}/s; echo {echoAtNodeRate.Result.P99:0.00} ms + 2 = {limit:0.00} ms"));
        var perRequestRatio = node.PerRequest!.Throughput / echo.PerRequest!.Throughput;
        Target("one node, C=64 connection per request >= 0.7 x echo in the same mode", perRequestRatio >= 0.7, Invariant($"{perRequestRatio:0.00} x echo"));
    }

    private static void OpenLoopRow(string name, OpenLoop run) =>
        Console.WriteLine(Invariant($"| {name} | {run.Rate:0} | {run.Result.P50:0.00} | {run.Result.P99:0.00} | {run.Result.P999:0.00} | {run.Result.Errors} |"));

    /// <summary>Issue 13: signed answers cost at most a tenth of the unsigned throughput, at D=1 and D=16.</summary>
    public static void Signing(SetupResult unsigned, SetupResult signed) =>
        OnVsOff("signing on vs off", unsigned, signed, 0.9, "unsigned");

    /// <summary>Issue 14: the client registry costs at most 5 % of the throughput without it, at D=1 and D=16.</summary>
    public static void RegistryTargets(SetupResult off, SetupResult on) =>
        OnVsOff("client registry on vs off", off, on, 0.95, "off");

    /// <summary>A feature's target as the ratio of its setup's closed-loop throughput to the same node without it.</summary>
    private static void OnVsOff(string feature, SetupResult without, SetupResult with, double target, string withoutName)
    {
        foreach (var (depth, on, off) in new[] { (1, with.Single, without.Single), (16, with.Pipelined, without.Pipelined) })
        {
            var ratio = on.Throughput / off.Throughput;
            Target(Invariant($"{feature}, one node, C=64 D={depth} >= {target} x {withoutName}"), ratio >= target,
                Invariant($"{on.Throughput:0}/s vs {off.Throughput:0}/s, {ratio:0.00} x"));
        }
    }

    private static void Target(string name, bool met, string measured) =>
        Console.WriteLine($"target {name}: {(met ? "met" : "NOT met")} ({measured})");

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
