namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/stats</c>: this node's request counters since it started.</summary>
/// <param name="ByLicenseState">Answered requests by licence state name.</param>
/// <param name="ByError">Refused requests by error code name (e.g. no-host-key, clock-skew).</param>
/// <param name="RequestLog">The structured request log's counters; null when it is off.</param>
/// <param name="ClientRegistry">The client registry feed's counters.</param>
/// <param name="Limits">What the abuse limits turned away, and the connections and requests they count now.</param>
public sealed record StatsJson(
    string Node,
    Guid HostId,
    DateTimeOffset StartedAt,
    long Total,
    long Failed,
    long Activated,
    long NotActivated,
    IReadOnlyDictionary<string, long> ByLicenseState,
    IReadOnlyDictionary<string, long> ByError,
    RequestLogJson? RequestLog = null,
    ClientRegistryStatsJson? ClientRegistry = null,
    LimitsJson? Limits = null);

/// <summary>The abuse limits since the node started (the same numbers as the kms.connections.* and kms.requests.throttled metrics).</summary>
/// <param name="ConnectionsOpen">Activation connections open now.</param>
/// <param name="RefusedNodeConnections">Connections reset at accept: the node held --max-connections.</param>
/// <param name="RefusedSourceConnections">Connections reset at accept: their source held --max-connections-per-source.</param>
/// <param name="FrameTimeouts">Connections closed: a frame not complete within --frame-timeout of its first byte.</param>
/// <param name="BrokenStreams">Connections closed: a broken stream (bad magic, a frame beyond the size limit).</param>
/// <param name="ThrottledSourceRequests">Requests answered server-busy: their source over --source-rate.</param>
/// <param name="ThrottledNodeRequests">Requests answered server-busy: the node held --max-pending unanswered requests.</param>
/// <param name="PendingRequests">Requests read and not yet answered now, all connections together.</param>
/// <param name="SourceBuckets">Rate-limit token buckets that exist now (recent sources).</param>
/// <param name="SourceHoldOffs">Times a connection over its source's rate was not read until its retry hint had passed
/// (each after at most 64 server-busy answers).</param>
public sealed record LimitsJson(long ConnectionsOpen, long RefusedNodeConnections, long RefusedSourceConnections, long FrameTimeouts,
    long BrokenStreams, long ThrottledSourceRequests, long ThrottledNodeRequests, long PendingRequests, long SourceBuckets,
    long SourceHoldOffs = 0);

/// <summary>The request log (--request-log) as the node has written it since it started.</summary>
/// <param name="Destination">The file, or stdout.</param>
/// <param name="Written">Lines written.</param>
/// <param name="Dropped">Lines dropped because the writer had fallen behind (the queue was full): answers never wait for the log.</param>
/// <param name="WriteErrors">Lines lost because a write failed (disk full, file removed with its directory).</param>
/// <param name="Rotations">Times the file was rotated.</param>
public sealed record RequestLogJson(string Destination, long MaxSizeBytes, int Files, long Written, long Dropped, long WriteErrors,
    long Rotations);
