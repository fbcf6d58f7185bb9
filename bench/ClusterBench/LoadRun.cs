using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Bench;

/// <summary>Closed-loop load: C connections spread over the given endpoints, D requests in flight on each,
/// every request a new machine, for a fixed time. Counts answers and keeps every latency.</summary>
internal static class LoadRun
{
    public static async Task<LoadResult> RunAsync(IReadOnlyList<string> endpoints, int connections, int pipeline,
        TimeSpan duration, string productSlug)
    {
        var product = ProductCatalog.Default.FindProduct(productSlug)!;
        var latencies = new List<double>[connections];
        long ok = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        var stopAt = duration;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var endpoint = endpoints[c % endpoints.Count];
            var colon = endpoint.LastIndexOf(':');
            await using var connection = await KmsConnection.ConnectAsync(endpoint[..colon], int.Parse(endpoint[(colon + 1)..]),
                TimeSpan.FromSeconds(5));
            var mine = latencies[c] = new List<double>(100_000);
            await Task.WhenAll(Enumerable.Range(0, pipeline).Select(async _ =>
            {
                while (clock.Elapsed < stopAt)
                {
                    var request = new ActivationRequest(Guid.NewGuid(), product.Application.Id, product.Id, (ushort)product.Threshold,
                        LicenseState.Licensed, 10080, false, "bench", DateTimeOffset.UtcNow);
                    var sent = clock.Elapsed;
                    var result = await connection.ActivateAsync(request, TimeSpan.FromSeconds(30));
                    var took = (clock.Elapsed - sent).TotalMilliseconds;
                    if (result.IsError)
                    {
                        Interlocked.Increment(ref errors);
                        continue;
                    }
                    Interlocked.Increment(ref ok);
                    lock (mine) mine.Add(took);
                }
            }));
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(ok, errors, clock.Elapsed, Percentile(all, 0.5), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

internal sealed record LoadResult(long Ok, long Errors, TimeSpan Elapsed, double P50Milliseconds, double P99Milliseconds)
{
    public double PerSecond => Ok / Elapsed.TotalSeconds;
}
