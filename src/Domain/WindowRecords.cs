using KmsCluster.Protocol.Wire;

namespace KmsCluster.Domain;

/// <summary>One client contact on its way into a window. The threshold comes from the host's catalogue.</summary>
public readonly record struct ContactRequest(
    Guid ClientMachineId,
    Guid ProductId,
    int Threshold,
    string Workstation,
    bool IsVirtualMachine,
    LicenseState LicenseState);

/// <summary>A machine as the window remembers it.</summary>
/// <param name="OtherWorkstation">Another name this CMID was seen under: the sign of cloned images that
/// share one CMID and so count once.</param>
public sealed record StoredContact(
    Guid ClientMachineId,
    Guid ProductId,
    string Workstation,
    bool IsVirtualMachine,
    DateTimeOffset LastContact,
    string? OtherWorkstation);

/// <summary>A contact as an event carries it; its time is the event's time.</summary>
public readonly record struct RecordedContact(
    Guid ClientMachineId,
    Guid ProductId,
    string Workstation,
    bool IsVirtualMachine,
    string? OtherWorkstation);

/// <summary>The event persisted for one batch of contacts.</summary>
/// <param name="RecordedAt">The window's clock for the whole batch.</param>
/// <param name="HighestThreshold">The highest threshold asked for so far, this batch included.</param>
/// <param name="Contacts">The batch's contacts that are still stored after it, oldest first. Contacts that the
/// batch itself pushed out are left out: they change nothing once the batch is applied.</param>
/// <param name="Requests">How many requests the batch answered.</param>
/// <param name="Activated">How many of them were answered "activated".</param>
public sealed record ContactsRecorded(
    DateTimeOffset RecordedAt,
    int HighestThreshold,
    IReadOnlyList<RecordedContact> Contacts,
    int Requests,
    int Activated);

/// <summary>The whole window state, for snapshots.</summary>
public sealed record WindowSnapshot(
    int HighestThreshold,
    IReadOnlyList<StoredContact> Contacts,
    long Requests,
    long Activated,
    DateTimeOffset? LastRecordedAt);

/// <summary>What <see cref="ContactWindow.Decide"/> returns: the event to persist and, per contact of the
/// batch in order, the count that contact is answered with.</summary>
public sealed record BatchDecision(ContactsRecorded Event, int[] Counts);
