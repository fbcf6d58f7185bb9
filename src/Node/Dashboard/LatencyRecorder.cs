using System.Diagnostics.Metrics;
using KmsCluster.Actors;

namespace KmsCluster.Node.Dashboard;

/// <summary>
/// Listens to the node's answer latency (<see cref="KmsMetrics.ActivationDuration"/>) into fixed log-scale buckets,
/// four per doubling from 1 µs (each within 19 %): one interlocked increment per answer, no lock, no allocation, so
/// the activation path does not notice it. <see cref="TakeInterval"/> gives the percentiles since the last call.
/// </summary>
public sealed class LatencyRecorder : IDisposable
{
    private const int BucketsPerDoubling = 4;
    private const int Buckets = 30 * BucketsPerDoubling; // 1 µs to about 1,000 s

    private readonly long[] _counts = new long[Buckets];
    private readonly long[] _taken = new long[Buckets];
    private readonly MeterListener _listener = new();

    public LatencyRecorder() : this(listen: true)
    {
    }

    /// <param name="listen">False for a recorder fed only through <see cref="Record"/> (tests in a process whose
    /// other tests answer requests).</param>
    internal LatencyRecorder(bool listen)
    {
        if (!listen) return;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KmsMetrics.MeterName && instrument.Name == KmsMetrics.ActivationDurationName)
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (_, milliseconds, _, state) => ((LatencyRecorder)state!).Record(milliseconds));
        _listener.Start();
    }

    public void Record(double milliseconds) => Interlocked.Increment(ref _counts[Bucket(milliseconds)]);

    /// <summary>The 50th and 99th percentile (bucket upper bounds, ms) of the answers since the previous call, or
    /// nulls when there were none. One caller at a time (the history sampler).</summary>
    public (double? P50, double? P99) TakeInterval()
    {
        Span<long> interval = stackalloc long[Buckets];
        long total = 0;
        for (var i = 0; i < Buckets; i++)
        {
            var now = Interlocked.Read(ref _counts[i]);
            interval[i] = now - _taken[i];
            _taken[i] = now;
            total += interval[i];
        }
        return total == 0 ? (null, null) : (Percentile(interval, total, 0.50), Percentile(interval, total, 0.99));
    }

    private static double Percentile(ReadOnlySpan<long> counts, long total, double quantile)
    {
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return UpperBound(i);
        }
        return UpperBound(counts.Length - 1);
    }

    internal static int Bucket(double milliseconds)
    {
        var microseconds = milliseconds * 1000;
        if (!(microseconds > 1)) return 0; // also NaN
        return Math.Min(Buckets - 1, (int)Math.Ceiling(Math.Log2(microseconds) * BucketsPerDoubling));
    }

    internal static double UpperBound(int bucket) => Math.Pow(2, (double)bucket / BucketsPerDoubling) / 1000;

    public void Dispose() => _listener.Dispose();
}
