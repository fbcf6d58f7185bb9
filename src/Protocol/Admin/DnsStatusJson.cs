namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/host/dns</c>, and <c>dns</c> in <c>/api/v1/host</c> and <c>/healthz</c>: what the
/// node's DNS publishing is doing. Server, zone, owner and target are null when publishing is off.</summary>
/// <param name="State">off, starting, published, failing, removed, remove-failed.</param>
/// <param name="Port">The published port, once the activation endpoint is bound.</param>
/// <param name="Record">The SRV record as a zone file line, once the port is known.</param>
/// <param name="TsigKey">The TSIG key's name (never its secret).</param>
public sealed record DnsStatusJson(
    bool Enabled,
    string State,
    string? Server,
    string? Zone,
    string? Owner,
    string? Target,
    int? Port,
    int Priority,
    int Weight,
    int TtlSeconds,
    long RefreshSeconds,
    IReadOnlyList<string> Addresses,
    string? TsigKey,
    string? TsigAlgorithm,
    string? Record,
    long Attempts,
    long Failures,
    int ConsecutiveFailures,
    DateTimeOffset? LastAttempt,
    DateTimeOffset? LastSuccess,
    DateTimeOffset? LastFailure,
    string? LastError,
    DateTimeOffset? NextAttempt);
