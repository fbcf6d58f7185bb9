namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/windows/{application}</c> (and each element of <c>GET /api/v1/windows</c>): one
/// application's contact window as durably stored.</summary>
/// <param name="Application">The application's slug (windows, office).</param>
/// <param name="Capacity">Contacts kept: twice the highest threshold asked for.</param>
/// <param name="Owner">The cluster address of the node holding the window.</param>
/// <param name="Contacts">Newest first.</param>
public sealed record WindowJson(
    string Application,
    Guid ApplicationId,
    string Name,
    int Count,
    int Capacity,
    int HighestThreshold,
    IReadOnlyList<ThresholdJson> Thresholds,
    long Requests,
    long Activated,
    long NotActivated,
    DateTimeOffset? LastContact,
    string Owner,
    DateTimeOffset AsOf,
    IReadOnlyList<ContactJson> Contacts);

/// <param name="Kind">The edition kind (e.g. client, server).</param>
/// <param name="Reached">Whether the window's count reaches this threshold.</param>
public sealed record ThresholdJson(string Kind, int Threshold, bool Reached);

/// <param name="Product">The product's slug, or its id when the host's catalogue does not know it.</param>
/// <param name="OtherWorkstation">A second name the same CMID came from (a cloned image); null otherwise.</param>
public sealed record ContactJson(
    Guid Cmid,
    string Product,
    string ProductName,
    string Workstation,
    string? OtherWorkstation,
    bool VirtualMachine,
    DateTimeOffset LastContact);
