using KmsCluster.Node.Activation;
using KmsCluster.Node.Dashboard;
using KmsCluster.Protocol.Wire;
using Microsoft.Extensions.Time.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The dashboard's last hour: rates per interval from the node's counters, latency percentiles of the
/// interval's answers only, and at most an hour of samples.</summary>
public sealed class ActivityHistoryTests
{
    [Fact]
    public void Latency_buckets_hold_each_value_within_a_fifth_and_percentiles_cover_only_the_interval()
    {
        using var latency = new LatencyRecorder(listen: false);
        foreach (var ms in new[] { 0.0005, 0.003, 0.2, 1.0, 7.5, 120.0, 60_000.0 })
        {
            var upper = LatencyRecorder.UpperBound(LatencyRecorder.Bucket(ms));
            Assert.InRange(upper, ms, Math.Max(0.001, ms * 1.19));
        }
        for (var i = 0; i < 98; i++) latency.Record(1.0);
        latency.Record(50);
        latency.Record(50);
        var (p50, p99) = latency.TakeInterval();
        Assert.InRange(p50!.Value, 1.0, 1.19);
        Assert.InRange(p99!.Value, 50, 50 * 1.19);
        Assert.Equal((null, null), latency.TakeInterval());
        latency.Record(3);
        Assert.InRange(latency.TakeInterval().P99!.Value, 3, 3 * 1.19);
    }

    [Fact]
    public void Each_sample_is_the_interval_s_answers_per_second_and_an_hour_is_kept()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T12:00:00Z"));
        var stats = new NodeStats();
        using var latency = new LatencyRecorder(listen: false);
        stats.Answered(activated: true); // before the history started: not in any sample
        var history = new ActivityHistory(stats, latency, new HostIdentity(Guid.NewGuid(), "n1"), time);

        for (var i = 0; i < 50; i++) stats.Answered(activated: true);
        for (var i = 0; i < 10; i++) stats.Answered(activated: false);
        stats.Failed(ErrorCode.ClockSkew);
        latency.Record(2);
        Tick(time, history);
        var sample = Assert.Single(history.Snapshot().Samples);
        Assert.Equal(10, sample.ActivatedPerSecond);
        Assert.Equal(2, sample.NotActivatedPerSecond);
        Assert.Equal(0.2, sample.FailedPerSecond);
        Assert.InRange(sample.P50Ms!.Value, 2, 2 * 1.19);

        Tick(time, history);
        Assert.Equal(0, history.Snapshot().Samples[1].ActivatedPerSecond);
        Assert.Null(history.Snapshot().Samples[1].P99Ms);

        for (var n = 3; n <= 730; n++) Tick(time, history);
        var hour = history.Snapshot();
        Assert.Equal(720, hour.Samples.Count);
        Assert.Equal(time.GetUtcNow(), hour.Samples[^1].Time);
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(5 * 719), hour.Samples[0].Time);
        Assert.Equal(5, hour.IntervalSeconds);
    }

    private static void Tick(FakeTimeProvider time, ActivityHistory history)
    {
        time.Advance(ActivityHistory.Interval);
        history.Sample();
    }
}
