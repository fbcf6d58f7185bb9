using KmsCluster.Node.Activation;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Dashboard;

/// <summary>
/// The last hour of this node's activity for the dashboard: every <see cref="Interval"/> it reads the request
/// counters (<see cref="NodeStats"/>, the same ones /api/v1/stats shows) and the latency of the interval's answers
/// (<see cref="LatencyRecorder"/>) into a ring of 720 samples. In memory only: a restarted node starts a new hour.
/// </summary>
public sealed class ActivityHistory : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly int Capacity = (int)(TimeSpan.FromHours(1) / Interval);

    private readonly NodeStats _stats;
    private readonly LatencyRecorder _latency;
    private readonly HostIdentity _host;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Queue<ActivitySampleJson> _samples = new();
    private (long Activated, long NotActivated, long Failed, DateTimeOffset At) _last;

    public ActivityHistory(NodeStats stats, LatencyRecorder latency, HostIdentity host, TimeProvider time)
    {
        (_stats, _latency, _host, _time) = (stats, latency, host, time);
        _last = Counters();
        latency.TakeInterval();
    }

    public ActivityJson Snapshot()
    {
        lock (_gate) return new ActivityJson(_host.Name, (int)Interval.TotalSeconds, _samples.ToArray());
    }

    /// <summary>Takes the sample of the interval since the previous one (the timer's tick; tests call it directly).</summary>
    internal void Sample()
    {
        var now = Counters();
        var seconds = Math.Max(0.001, (now.At - _last.At).TotalSeconds);
        var (p50, p99) = _latency.TakeInterval();
        var sample = new ActivitySampleJson(now.At, Rate(now.Activated - _last.Activated), Rate(now.NotActivated - _last.NotActivated),
            Rate(now.Failed - _last.Failed), p50, p99);
        _last = now;
        lock (_gate)
        {
            if (_samples.Count == Capacity) _samples.Dequeue();
            _samples.Enqueue(sample);
        }

        double Rate(long count) => Math.Round(count / seconds, 1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Sample();
        }
    }

    private (long Activated, long NotActivated, long Failed, DateTimeOffset At) Counters() => (_stats.Activated, _stats.NotActivated, _stats.FailedCount, _time.GetUtcNow());
}
