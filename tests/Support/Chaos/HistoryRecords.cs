using KmsCluster.Domain;

namespace KmsCluster.Testing.Chaos;

/// <summary>How one request ended, as the client saw it.</summary>
public enum RequestOutcome
{
    /// <summary>An activation answer: a count and activated or not.</summary>
    Answered,

    /// <summary>An error answer from a host (its code in <see cref="RequestRecord.Error"/>).</summary>
    Refused,

    /// <summary>No host answered before the client's deadline: connections failed or timed out.</summary>
    Unreachable,

    /// <summary>The client threw something other than its documented connection failure (a client bug).</summary>
    ClientFailure,
}

/// <summary>
/// One request of the chaos load and its outcome, as the recorder writes it (one JSON line each).
/// Times are the test machine's clock, the same clock the nodes stamp their journal rows with.
/// </summary>
/// <param name="FirstSend">The fleet sent this machine for the first time: a contact new to its window.</param>
/// <param name="Server">The host that gave the answer (or the last one tried).</param>
/// <param name="Failovers">How often the client moved to another host during this request.</param>
public sealed record RequestRecord(
    long Id,
    int Worker,
    Guid Machine,
    string Application,
    string Product,
    int Threshold,
    bool FirstSend,
    DateTimeOffset SentAt,
    DateTimeOffset FinishedAt,
    string? Server,
    long Failovers,
    RequestOutcome Outcome,
    int? Count = null,
    bool? Activated = null,
    string? HostName = null,
    DateTimeOffset? HostTime = null,
    string? Error = null,
    bool? Retryable = null);

/// <summary>A window's event as the PostgreSQL journal committed it, decoded with the node's own serializer.</summary>
/// <param name="Application">The application slug of the window (from the persistence id).</param>
/// <param name="Created">The row's created stamp (the writing node's clock when it wrote the event).</param>
public sealed record JournalEvent(
    string Application,
    string PersistenceId,
    long SequenceNumber,
    string WriterUuid,
    DateTimeOffset Created,
    ContactsRecorded Recorded);

/// <summary>One window as one node's admin API showed it after the run, or why it could not.</summary>
public sealed record WindowRead(
    string Node,
    string Application,
    int Count,
    int Capacity,
    long Requests,
    long Activated,
    IReadOnlyList<ReadContact> Contacts,
    string? Error = null);

public sealed record ReadContact(Guid Machine, DateTimeOffset LastContact);

/// <summary>An invariant the history breaks, with the evidence (request ids, machines, times, journal rows).</summary>
public sealed record Violation(string Invariant, string Evidence);

/// <summary>Everything the checker reads: the recorded requests, the durable journal, the windows as each node
/// showed them, and problems the fault injector met while recovering.</summary>
public sealed record ChaosEvidence(
    IReadOnlyList<RequestRecord> Requests,
    IReadOnlyList<JournalEvent> Journal,
    IReadOnlyList<WindowRead> Reads);
