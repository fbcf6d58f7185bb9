namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/stats</c>: this node's request counters since it started.</summary>
/// <param name="ByLicenseState">Answered requests by licence state name.</param>
/// <param name="ByError">Refused requests by error code name (e.g. no-host-key, clock-skew).</param>
/// <param name="RequestLog">The structured request log's counters; null when it is off.</param>
/// <param name="ClientRegistry">The client registry feed's counters.</param>
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
    ClientRegistryStatsJson? ClientRegistry = null);

/// <summary>The request log (--request-log) as the node has written it since it started.</summary>
/// <param name="Destination">The file, or stdout.</param>
/// <param name="Written">Lines written.</param>
/// <param name="Dropped">Lines dropped because the writer had fallen behind (the queue was full): answers never wait for the log.</param>
/// <param name="WriteErrors">Lines lost because a write failed (disk full, file removed with its directory).</param>
/// <param name="Rotations">Times the file was rotated.</param>
public sealed record RequestLogJson(string Destination, long MaxSizeBytes, int Files, long Written, long Dropped, long WriteErrors,
    long Rotations);
