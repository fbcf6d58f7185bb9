namespace KmsCluster.Domain;

/// <summary>A host that activated under a host key, as the key's ledger remembers it.</summary>
/// <param name="Reactivations">How often the host was activated again with the key after its first activation.</param>
/// <param name="LastRequestId">The request that counted last: the same request again (a retry after a lost
/// answer) is answered as before and not counted twice.</param>
public sealed record LedgerHost(
    Guid HostId,
    string HostName,
    DateTimeOffset FirstActivatedAt,
    DateTimeOffset LastActivatedAt,
    int Reactivations,
    Guid LastRequestId);

/// <summary>What the ledger answered to a host activation.</summary>
public enum HostActivationOutcome : byte
{
    /// <summary>A new host, counted (an event was journaled).</summary>
    Activated = 0,

    /// <summary>The host is in the ledger and did not ask to re-activate: nothing changes.</summary>
    AlreadyActive = 1,

    /// <summary>The host re-activated; its re-activation count went up (an event was journaled).</summary>
    Reactivated = 2,

    /// <summary>Refused: the key has activated as many distinct hosts as it may.</summary>
    HostLimitReached = 3,

    /// <summary>Refused: the host was already re-activated <see cref="HostKeyLedger.MaxReactivations"/> times.</summary>
    ReactivationLimitReached = 4,
}

public static class HostActivationOutcomes
{
    /// <summary>The outcome's stable name in answers and the admin API: activated, already-active, reactivated,
    /// host-limit-reached, reactivation-limit-reached.</summary>
    public static string Name(this HostActivationOutcome outcome) => outcome switch
    {
        HostActivationOutcome.Activated => "activated",
        HostActivationOutcome.AlreadyActive => "already-active",
        HostActivationOutcome.Reactivated => "reactivated",
        HostActivationOutcome.HostLimitReached => "host-limit-reached",
        HostActivationOutcome.ReactivationLimitReached => "reactivation-limit-reached",
        _ => outcome.ToString(),
    };
}

/// <summary>The event a key's ledger journals for each counted activation.</summary>
public sealed record HostActivationRecorded(Guid RequestId, Guid HostId, string HostName, DateTimeOffset At, bool Reactivation);

/// <summary>The whole ledger of one key, for snapshots.</summary>
public sealed record HostKeyLedgerSnapshot(IReadOnlyList<LedgerHost> Hosts);

/// <summary>
/// The host activation ledger of one host key (the KMS model: one key activates up to 6 hosts, more only with
/// the authority's exception; each host may be re-activated with the same key up to 9 times). Pure state:
/// <see cref="Decide"/> works a request out without changing anything; only <see cref="Apply"/> changes the
/// state, live and in recovery alike. Refusals change nothing and are not journaled.
/// </summary>
public sealed class HostKeyLedger
{
    /// <summary>Re-activations one host may have with one key (the 10th is refused).</summary>
    public const int MaxReactivations = 9;

    private readonly List<LedgerHost> _hosts = [];

    /// <summary>The hosts in the order they first activated.</summary>
    public IReadOnlyList<LedgerHost> Hosts => _hosts;

    /// <summary>
    /// A host asks to activate under the key. A host the ledger does not know is a new host: counted unless the
    /// key has activated <paramref name="hostLimit"/> hosts already. A known host that does not ask to
    /// re-activate holds its activation already (a restart): nothing changes. A known host that re-activates
    /// (reinstalled, or the operator asked) counts a re-activation, up to <see cref="MaxReactivations"/>.
    /// </summary>
    /// <param name="requestId">Unique per request; a retry sends the same id and is not counted twice.</param>
    /// <returns>The outcome, and the event to journal when the request is counted.</returns>
    public (HostActivationOutcome Outcome, HostActivationRecorded? Event) Decide(Guid requestId, Guid hostId,
        string hostName, bool reactivate, int hostLimit, DateTimeOffset now) =>
        Decide(_hosts.Find(h => h.HostId == hostId), _hosts.Count, requestId, hostId, hostName, reactivate, hostLimit, now);

    /// <summary>
    /// The same rule for a store that keeps a key's hosts elsewhere (the licensing authority's database): only the
    /// host in question (<paramref name="known"/>, null when the key has not activated it) and how many hosts the
    /// key has activated (<paramref name="hostCount"/>) matter.
    /// </summary>
    public static (HostActivationOutcome Outcome, HostActivationRecorded? Event) Decide(LedgerHost? known, int hostCount,
        Guid requestId, Guid hostId, string hostName, bool reactivate, int hostLimit, DateTimeOffset now)
    {
        if (known is null)
        {
            return hostCount >= hostLimit
                ? (HostActivationOutcome.HostLimitReached, null)
                : (HostActivationOutcome.Activated, new HostActivationRecorded(requestId, hostId, hostName, now, Reactivation: false));
        }
        if (known.LastRequestId == requestId)
        {
            return (known.Reactivations == 0 ? HostActivationOutcome.Activated : HostActivationOutcome.Reactivated, null);
        }
        if (!reactivate)
        {
            return (HostActivationOutcome.AlreadyActive, null);
        }
        return known.Reactivations >= MaxReactivations
            ? (HostActivationOutcome.ReactivationLimitReached, null)
            : (HostActivationOutcome.Reactivated, new HostActivationRecorded(requestId, hostId, hostName, now, Reactivation: true));
    }

    public void Apply(HostActivationRecorded recorded)
    {
        var index = _hosts.FindIndex(h => h.HostId == recorded.HostId);
        if (index < 0)
        {
            _hosts.Add(Applied(null, recorded));
            return;
        }
        _hosts[index] = Applied(_hosts[index], recorded);
    }

    /// <summary>The host as it is after <paramref name="recorded"/> (<paramref name="known"/>: before it; null for a new host).</summary>
    public static LedgerHost Applied(LedgerHost? known, HostActivationRecorded recorded) => known is null
        ? new LedgerHost(recorded.HostId, recorded.HostName, recorded.At, recorded.At, 0, recorded.RequestId)
        : known with
        {
            HostName = recorded.HostName,
            LastActivatedAt = recorded.At,
            Reactivations = known.Reactivations + (recorded.Reactivation ? 1 : 0),
            LastRequestId = recorded.RequestId,
        };

    public HostKeyLedgerSnapshot ToSnapshot() => new(_hosts.ToArray());

    public static HostKeyLedger FromSnapshot(HostKeyLedgerSnapshot snapshot)
    {
        var ledger = new HostKeyLedger();
        ledger._hosts.AddRange(snapshot.Hosts);
        return ledger;
    }
}
