namespace KmsCluster.Protocol.Admin;

/// <summary>One element of <c>GET /api/v1/host-keys</c>: a key of this node and the cluster's ledger of it.</summary>
/// <param name="Hosts">The hosts activated under the key; null with <paramref name="Error"/>.</param>
/// <param name="Owner">The node the ledger runs on.</param>
/// <param name="Error">Why there is no ledger: it did not answer, or the key is not signed by a trusted authority.</param>
public sealed record HostKeyLedgerJson(KeyJson Key, IReadOnlyList<LedgerHostJson>? Hosts, string? Owner, string? Error);

/// <param name="Self">Whether this host is the node that answered.</param>
public sealed record LedgerHostJson(Guid HostId, string Name, DateTimeOffset FirstActivatedAt, DateTimeOffset LastActivatedAt,
    int Reactivations, bool Self);
