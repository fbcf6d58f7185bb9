namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/host</c>: this host's licence.</summary>
/// <param name="Catalog">built-in, or the catalogue file.</param>
/// <param name="Licence">licensed, pending or unlicensed.</param>
/// <param name="Activates">The product slugs this host serves.</param>
public sealed record HostJson(
    string Node,
    Guid HostId,
    HostOsJson HostOs,
    string Catalog,
    string Licence,
    IReadOnlyList<string> Problems,
    IReadOnlyList<AuthorityJson> TrustedAuthorities,
    IReadOnlyList<KeyJson> Keys,
    IReadOnlyList<string> Activates,
    DnsStatusJson Dns);

/// <param name="Kind">server or client.</param>
public sealed record HostOsJson(string Name, string Kind);

public sealed record AuthorityJson(string Fingerprint, string File);

/// <summary>One host key of this node, in <c>/api/v1/host</c> and <c>/api/v1/host-keys</c>.</summary>
/// <param name="Status">active, pending or refused.</param>
/// <param name="Problem">ok, pending, expired, bad-signature, unknown-authority, unknown-group, not-hostable,
/// host-limit-reached, reactivation-limit-reached.</param>
public sealed record KeyJson(
    string KeyId,
    string Group,
    string Organisation,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ExpiresAt,
    int MaxHosts,
    int MaxReactivations,
    string Authority,
    string File,
    string Status,
    string Problem,
    string Reason);
