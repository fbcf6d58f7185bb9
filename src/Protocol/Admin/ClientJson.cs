namespace KmsCluster.Protocol.Admin;

/// <summary>One row of the client registry: a machine (CMID) as one workstation showed it, for one application.</summary>
/// <param name="Product">The product slug (its id when this host's catalogue does not know it).</param>
/// <param name="LastCount">The window count of the machine's last answer.</param>
/// <param name="ValidUntil">When the last activation runs out; null when the last answer did not activate.</param>
/// <param name="Node">The node that gave the last answer.</param>
/// <param name="Cloned">The same CMID was also seen from another workstation.</param>
public sealed record ClientJson(
    Guid Cmid,
    string Workstation,
    string Application,
    string Product,
    bool VirtualMachine,
    DateTimeOffset FirstContact,
    DateTimeOffset LastContact,
    int LastCount,
    bool Activated,
    DateTimeOffset? ValidUntil,
    string Node,
    bool Cloned);

/// <summary><c>GET /api/v1/clients</c>: one page, newest contact first.</summary>
/// <param name="Next">The cursor for <c>after=</c> to get the next page; null on the last page.</param>
public sealed record ClientsPageJson(IReadOnlyList<ClientJson> Clients, string? Next);

/// <summary><c>GET /api/v1/clients/{cmid}</c>: every row of one CMID (several workstations: a clone).</summary>
public sealed record ClientMachineJson(Guid Cmid, bool Cloned, IReadOnlyList<ClientJson> Rows);

/// <summary>The client registry's feed on this node, in <see cref="StatsJson"/>.</summary>
/// <param name="Pending">Answers waiting for the background writer.</param>
/// <param name="Written">Rows upserted since the node started (repeats of a machine within one flush count once).</param>
/// <param name="Dropped">Answers not recorded because the writer was behind and the buffer full, or a write failed.</param>
/// <param name="LastFlush">When the writer last committed; null before its first write.</param>
public sealed record ClientRegistryStatsJson(bool Enabled, long Pending, long Written, long Dropped, DateTimeOffset? LastFlush);
