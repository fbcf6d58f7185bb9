using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Bench;

/// <summary>When the survivors logged each step of one failover, in seconds after the kill (null: not seen).</summary>
/// <param name="Unreachable">The first survivor marked the owner unreachable.</param>
/// <param name="Decided">The split brain resolver decided to down it.</param>
/// <param name="RemovedByLeader">The leader removed it from the membership.</param>
/// <param name="RemovedEverywhere">The last survivor saw the removal.</param>
/// <param name="Recovered">The window finished its recovery on its new home.</param>
/// <param name="Answered">The first answer to a request sent after the kill.</param>
/// <param name="KilledCoordinator">The killed node was the oldest, so the sharding coordinator moved too.</param>
internal sealed record FailoverSteps(double? Unreachable, double? Decided, double? RemovedByLeader, double? RemovedEverywhere,
    double? Recovered, double Answered, bool KilledCoordinator);

/// <summary>
/// Time from kill -9 of the node owning the Windows window until a survivor answers an activation for that
/// window again. Eight probes keep one request each in flight through the survivors; the failover ends with
/// the first successful answer to a request sent after the kill (an answer to an earlier request could still
/// come from the dead owner's last write). The steps in between come from the survivors' logs.
/// </summary>
internal static class Failover
{
    public static async Task<FailoverSteps> MeasureOnceAsync(LocalCluster cluster, TimeSpan limit)
    {
        var owner = await cluster.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
        var oldest = (await cluster.ClusterViewAsync()).Oldest;
        var survivors = cluster.Nodes.Where((n, i) => i != owner && n is { HasExited: false }).Cast<NodeProcess>().ToList();
        var product = ProductCatalog.Default.FindProduct("windows-11-enterprise")!;
        var connections = new List<KmsConnection>();
        foreach (var node in survivors)
        {
            connections.Add(await node.OpenConnectionAsync());
        }

        var clock = Stopwatch.StartNew();
        var killedAtTicks = long.MaxValue;
        var recoveredAt = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var timeouts = 0;
        var problems = new List<string>();
        var probes = Enumerable.Range(0, 8).Select(async p =>
        {
            var connection = connections[p % connections.Count];
            while (!stop.IsCancellationRequested)
            {
                var sent = clock.Elapsed;
                try
                {
                    var result = await connection.ActivateAsync(new ActivationRequest(Guid.NewGuid(), product.Application.Id,
                        product.Id, 25, LicenseState.Licensed, 100, false, "probe", DateTimeOffset.UtcNow), TimeSpan.FromSeconds(2));
                    var killed = Interlocked.Read(ref killedAtTicks);
                    if (!result.IsError && killed != long.MaxValue && sent.Ticks > killed + TimeSpan.TicksPerMillisecond * 100)
                    {
                        recoveredAt.TrySetResult(clock.Elapsed);
                    }
                }
                catch (TimeoutException)
                {
                    // The window is moving; ask again.
                    Interlocked.Increment(ref timeouts);
                }
                catch (Exception e)
                {
                    lock (problems) problems.Add(e.GetType().Name + ": " + e.Message);
                    throw;
                }
                if (Interlocked.Read(ref killedAtTicks) == long.MaxValue) await Task.Delay(20);
            }
        }).ToArray();

        await Task.Delay(1000);
        var victim = cluster.Nodes[owner]!;
        var killedCoordinator = victim.ClusterAddress == oldest;
        var killedAtUtc = DateTime.UtcNow;
        Interlocked.Exchange(ref killedAtTicks, clock.Elapsed.Ticks);
        victim.Kill();
        TimeSpan recovered;
        try
        {
            recovered = await recoveredAt.Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine($"timeouts {timeouts}; problems: {string.Join(" | ", problems)}");
            Console.Error.WriteLine(JsonSerializer.Serialize(await cluster.ClusterViewAsync(survivors[0]), AdminJson.Http.ClusterJson));
            foreach (var node in survivors)
            {
                Console.Error.WriteLine($"--- {node.Name}:\n{string.Join('\n', node.Output.Split('\n').TakeLast(60))}");
            }
            throw;
        }
        await stop.CancelAsync();
        await Task.WhenAll(probes);
        var answered = (recovered - TimeSpan.FromTicks(killedAtTicks)).TotalSeconds;
        var steps = Steps(survivors, killedAtUtc, product.Application.Id, answered, killedCoordinator);
        // KMS_BENCH_TIMELINE=1 prints the steps as the survivors logged them, =all every line up to the answer.
        var timeline = Environment.GetEnvironmentVariable("KMS_BENCH_TIMELINE");
        if (timeline is "1" or "all")
        {
            Console.WriteLine($"  killed {victim.Name} at {killedAtUtc:HH:mm:ss.fff}{(killedCoordinator ? " (the oldest: coordinator moves)" : "")}");
            foreach (var (name, at, line) in Timeline(survivors, killedAtUtc)
                         .Where(l => timeline == "all" ? l.At <= answered + 0.1 : IsStep(l.Line, product.Application.Id)))
            {
                Console.WriteLine($"  +{at:0.000} s {name}: {(timeline == "all" ? line : line[..Math.Min(line.Length, 160)])}");
            }
        }
        foreach (var connection in connections) await connection.DisposeAsync();

        // Bring the cluster back to full strength for the next run.
        await cluster.StartNodeAsync(owner);
        return steps;
    }

    private static bool IsStep(string line, Guid windowsApplication) =>
        line.Contains("Marking node(s) as UNREACHABLE", StringComparison.Ordinal) || line.Contains("SBR found unreachable", StringComparison.Ordinal)
        || line.Contains("Lease ", StringComparison.Ordinal) || line.Contains("SBR took decision", StringComparison.Ordinal)
        || line.Contains("Leader is removing unreachable node", StringComparison.Ordinal) || line.Contains("Member removed", StringComparison.Ordinal)
        || line.Contains("ShardCoordinator", StringComparison.Ordinal) || line.Contains("Singleton", StringComparison.Ordinal)
        || line.Contains($"Window {windowsApplication} recovered", StringComparison.Ordinal);

    private static FailoverSteps Steps(List<NodeProcess> survivors, DateTime killedAtUtc, Guid windowsApplication, double answered,
        bool killedCoordinator)
    {
        var lines = Timeline(survivors, killedAtUtc).ToList();
        double? First(Func<string, bool> match) => lines.Where(l => match(l.Line)).Select(l => (double?)l.At).FirstOrDefault();
        // Every survivor's ClusterSingletonManager logs the removal it saw.
        var removals = survivors.Select(s => lines.Where(l => l.Node == s.Name && l.Line.Contains("Member removed", StringComparison.Ordinal))
            .Select(l => (double?)l.At).FirstOrDefault()).ToList();
        return new FailoverSteps(
            First(l => l.Contains("Marking node(s) as UNREACHABLE", StringComparison.Ordinal)),
            First(l => l.Contains("SBR took decision", StringComparison.Ordinal)),
            First(l => l.Contains("Leader is removing unreachable node", StringComparison.Ordinal)),
            removals.Any(r => r is null) ? null : removals.Max(),
            First(l => l.Contains($"Window {windowsApplication} recovered", StringComparison.Ordinal)),
            answered, killedCoordinator);
    }

    /// <summary>The survivors' log lines from the kill on, with their time after the kill (the nodes log UTC
    /// time with milliseconds: "yyyy-MM-ddTHH:mm:ss.fffZ level: ...").</summary>
    private static IEnumerable<(string Node, double At, string Line)> Timeline(List<NodeProcess> survivors, DateTime killedAtUtc) =>
        survivors.SelectMany(node => node.Output.Split('\n').Select(line => (node.Name, line)))
            .Select(x => (x.Name, At: LoggedAt(x.line, killedAtUtc), Line: x.line.Length > TimestampLength ? x.line[TimestampLength..] : x.line))
            .Where(x => x.At is >= 0)
            .Select(x => (x.Name, x.At!.Value, x.Line))
            .OrderBy(x => x.Item2);

    private const int TimestampLength = 25;

    private static double? LoggedAt(string line, DateTime killedAtUtc) =>
        line.Length >= TimestampLength && DateTime.TryParseExact(line.AsSpan(0, TimestampLength - 1), "yyyy-MM-ddTHH:mm:ss.fffZ",
            CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? (at - killedAtUtc).TotalSeconds
            : null;
}
