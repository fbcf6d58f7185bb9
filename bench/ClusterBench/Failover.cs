using System.Diagnostics;
using System.Text.Json;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Bench;

/// <summary>
/// Time from kill -9 of the node owning the Windows window until a survivor answers an activation for that
/// window again. Eight probes keep one request each in flight through the survivors; the failover ends with
/// the first successful answer to a request sent after the kill (an answer to an earlier request could still
/// come from the dead owner's last write).
/// </summary>
internal static class Failover
{
    public static async Task<TimeSpan> MeasureOnceAsync(LocalCluster cluster, TimeSpan limit)
    {
        var owner = await cluster.OwnerIndexAsync("windows", TimeSpan.FromSeconds(60));
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
        if (Environment.GetEnvironmentVariable("KMS_BENCH_TIMELINE") == "1")
        {
            Console.WriteLine($"  killed at {DateTime.UtcNow - (clock.Elapsed - TimeSpan.FromTicks(killedAtTicks)):HH:mm:ss.fff}, recovered at {DateTime.UtcNow - (clock.Elapsed - recovered):HH:mm:ss.fff}");
            foreach (var line in survivors.SelectMany(n => n.Output.Split('\n').Select(l => (n.Name, l)))
                         .Where(x => x.l.Contains("UNREACHABLE") || x.l.Contains("SBR took decision") || x.l.Contains("removing unreachable")
                                     || x.l.Contains("recovered at sequence") || x.l.Contains("Member removed"))
                         .OrderBy(x => x.l))
            {
                Console.WriteLine($"  {line.Name}: {line.l[11..Math.Min(line.l.Length, 150)]}");
            }
        }
        foreach (var connection in connections) await connection.DisposeAsync();

        // Bring the cluster back to full strength for the next run.
        await cluster.StartNodeAsync(owner);
        return recovered - TimeSpan.FromTicks(killedAtTicks);
    }
}
