namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/stats</c>: this node's request counters since it started.</summary>
/// <param name="ByLicenseState">Answered requests by licence state name.</param>
/// <param name="ByError">Refused requests by error code name (e.g. no-host-key, clock-skew).</param>
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
    ClientRegistryStatsJson? ClientRegistry = null);
