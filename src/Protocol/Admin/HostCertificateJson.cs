namespace KmsCluster.Protocol.Admin;

/// <summary><c>PUT /api/v1/host-keys/{keyId}/certificate</c>: the licensing authority's certificate this host now
/// holds for the key, and the key's status on this node afterwards (active, pending, refused).</summary>
public sealed record HostCertificateJson(string KeyId, Guid HostId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, string Authority,
    string Status, string Reason);
