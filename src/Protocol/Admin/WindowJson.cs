namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/windows</c>: every application's window this node could reach, and those it could not (their
/// owner is down or moving): a node down never blanks the others.</summary>
public sealed record WindowsJson(IReadOnlyList<WindowJson> Windows, IReadOnlyList<UnreachableWindowJson> Unreachable);

/// <summary>A window that did not answer in time, and why.</summary>
public sealed record UnreachableWindowJson(string Application, string Error);

/// <summary><c>GET /api/v1/windows/{application}</c> (and each of <see cref="WindowsJson.Windows"/>): one
/// application's contact window as durably stored.</summary>
/// <param name="Application">The application's slug (windows, office).</param>
/// <param name="Capacity">Contacts kept: twice the highest threshold asked for.</param>
/// <param name="Owner">The cluster address of the node holding the window.</param>
/// <param name="Contacts">Newest first.</param>
/// <param name="Grant">The full window's grant the node that answered holds, if any: while it lasts, that node
/// answers the requests it covers at once and sends their contacts to the window behind the answers.</param>
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
    IReadOnlyList<ContactJson> Contacts,
    GrantJson? Grant = null);

/// <summary>A full window's grant as one node holds it.</summary>
/// <param name="Epoch">The window's durable sequence number when it granted; revocations name it.</param>
/// <param name="HighestThreshold">Requests of editions up to this threshold are covered.</param>
/// <param name="FullUntil">The window's oldest contact's 30-day mark as the owner reckoned it: the grant ends then
/// at the latest.</param>
/// <param name="LeaseSeconds">The grant ends this long after the node received it unless renewed.</param>
public sealed record GrantJson(long Epoch, int Capacity, int HighestThreshold, DateTimeOffset IssuedAt,
    DateTimeOffset FullUntil, double LeaseSeconds);

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
