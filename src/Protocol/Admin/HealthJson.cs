using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /healthz</c>: 200 when serving, 503 while starting or stopping.</summary>
/// <param name="Status">ok, starting or stopping.</param>
/// <param name="Member">This node's cluster member status (Up, Joining, ...).</param>
/// <param name="Licence">licensed, pending or unlicensed.</param>
/// <param name="LicenceProblems">Why each key that does not count does not.</param>
public sealed record HealthJson(string Status, string Node, Guid HostId, string Member, string Licence,
    IReadOnlyList<string> LicenceProblems)
{
    /// <summary>DNS publishing (only with --dns-publish): the same object as GET /api/v1/host/dns.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsStatusJson? Dns { get; init; }
}
