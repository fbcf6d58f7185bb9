using System.Diagnostics.Metrics;
using KmsCluster.Actors;
using KmsCluster.Node.Limits;

namespace KmsCluster.Node.Telemetry;

/// <summary>The abuse limits as observable instruments of the KmsCluster meter, read from <see cref="LimitStats"/>
/// and the guards themselves, so /metrics, OTLP and /api/v1/stats show the same numbers.</summary>
public sealed class LimitMetrics
{
    public const string ConnectionsOpen = "kms.connections.open";
    public const string ConnectionsRefused = "kms.connections.refused";
    public const string ConnectionsCut = "kms.connections.cut";
    public const string RequestsThrottled = "kms.requests.throttled";
    public const string RequestsPending = "kms.requests.pending";
    public const string SourceBuckets = "kms.limits.source_buckets";
    public const string SourceHoldOffs = "kms.limits.source_holdoffs";

    private static readonly KeyValuePair<string, object?>[] NodeTag = [new("limit", "node")];
    private static readonly KeyValuePair<string, object?>[] SourceTag = [new("limit", "source")];
    private static readonly KeyValuePair<string, object?>[] FrameTimeoutTag = [new("reason", "frame-timeout")];
    private static readonly KeyValuePair<string, object?>[] BrokenStreamTag = [new("reason", "broken-stream")];
    private static readonly KeyValuePair<string, object?>[] SourceRateTag = [new("limit", "source-rate")];
    private static readonly KeyValuePair<string, object?>[] NodePendingTag = [new("limit", "node-pending")];

    public LimitMetrics(LimitStats stats, ConnectionLimiter connections, NodePendingAnswers pending, SourceRateLimiter rate,
        IMeterFactory meters)
    {
        var meter = meters.Create(KmsMetrics.MeterName);
        meter.CreateObservableUpDownCounter(ConnectionsOpen, () => connections.Open, "{connection}",
            "Activation connections open now");
        meter.CreateObservableCounter(ConnectionsRefused, () => new Measurement<long>[]
            {
                new(stats.RefusedNodeConnections, NodeTag),
                new(stats.RefusedSourceConnections, SourceTag),
            }, "{connection}", "Connections reset at accept, by the limit they hit: node (--max-connections), source (--max-connections-per-source)");
        meter.CreateObservableCounter(ConnectionsCut, () => new Measurement<long>[]
            {
                new(stats.FrameTimeouts, FrameTimeoutTag),
                new(stats.BrokenStreams, BrokenStreamTag),
            }, "{connection}", "Connections closed by the node, by reason: frame-timeout (a frame not complete within --frame-timeout), broken-stream (bad magic, frame too large)");
        meter.CreateObservableCounter(RequestsThrottled, () => new Measurement<long>[]
            {
                new(stats.ThrottledSourceRequests, SourceRateTag),
                new(stats.ThrottledNodeRequests, NodePendingTag),
            }, "{request}", "Requests answered server-busy by the limit they hit: source-rate (--source-rate), node-pending (--max-pending)");
        meter.CreateObservableUpDownCounter(RequestsPending, () => pending.Pending, "{request}",
            "Requests read on this node's connections and not yet answered");
        meter.CreateObservableUpDownCounter(SourceBuckets, () => rate.Buckets, "{bucket}",
            "Token buckets of --source-rate that exist now (one per recent source, at most 100000)");
        meter.CreateObservableCounter(SourceHoldOffs, () => stats.SourceHoldOffs, "{hold-off}",
            "Times a connection over --source-rate was not read again until its retry hint had passed");
    }
}
