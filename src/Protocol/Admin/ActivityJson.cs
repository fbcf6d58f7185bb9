namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/stats/history</c>: this node's answers per second and answer latency over the last hour,
/// one sample per interval, oldest first (what the dashboard charts).</summary>
public sealed record ActivityJson(string Node, int IntervalSeconds, IReadOnlyList<ActivitySampleJson> Samples);

/// <summary>One interval: answers per second by outcome, and the latency of its answers (null when none came).</summary>
/// <param name="P50Ms">Median time from a request read to its answer ready, in milliseconds (bucket upper bound,
/// within 19 %).</param>
public sealed record ActivitySampleJson(
    DateTimeOffset Time,
    double ActivatedPerSecond,
    double NotActivatedPerSecond,
    double FailedPerSecond,
    double? P50Ms,
    double? P99Ms);
