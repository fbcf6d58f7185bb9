namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/node</c>: who this node is and how it serves, as <c>slmgr /dlv</c> shows a KMS host.</summary>
/// <param name="Version">The node's build version.</param>
/// <param name="ActivationEndpoints">HOST:PORT of every activation endpoint as bound.</param>
/// <param name="AdminEndpoint">HOST:PORT of the admin API as bound.</param>
/// <param name="ClusterAddress">This member's cluster address.</param>
/// <param name="Journal">sqlite or postgresql.</param>
/// <param name="RequestLog">Where the request log goes (a file or stdout); null when it is off.</param>
public sealed record NodeJson(
    string Node,
    Guid HostId,
    string Version,
    IReadOnlyList<string> ActivationEndpoints,
    string AdminEndpoint,
    string ClusterAddress,
    string Journal,
    uint ActivationIntervalMinutes,
    uint RenewalIntervalMinutes,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    string? RequestLog);
