using System.Diagnostics.Metrics;

namespace KmsCluster.Actors;

/// <summary>
/// What the node, its gateways and windows do, as System.Diagnostics.Metrics instruments (meter "KmsCluster"):
/// `dotnet-counters monitor -p PID --counters KmsCluster` shows them live, and an OpenTelemetry exporter can
/// pick them up. Recording is a few nanoseconds when nobody listens.
/// </summary>
public static class KmsMetrics
{
    public const string MeterName = "KmsCluster";

    private static readonly Meter Meter = new(MeterName);

    public const string ActivationDurationName = "kms.activation.duration";

    /// <summary>Time from a valid request reaching the node until its answer is ready (window journaled).</summary>
    public static readonly Histogram<double> ActivationDuration =
        Meter.CreateHistogram<double>(ActivationDurationName, "ms", "Time from a request read to its answer ready to write");

    /// <summary>Time from handing a window's event to the journal until it is durable.</summary>
    public static readonly Histogram<double> JournalWrite =
        Meter.CreateHistogram<double>("kms.window.journal_write.duration", "ms", "Time to journal one window event (one group commit)");

    /// <summary>Contacts per journaled event: the group commit's batch size.</summary>
    public static readonly Histogram<int> ContactsPerEvent =
        Meter.CreateHistogram<int>("kms.window.contacts_per_event", "{contact}", "Contacts journaled together in one event");

    /// <summary>Contacts per message from a node's gateway to a window.</summary>
    public static readonly Histogram<int> ContactsPerBatch =
        Meter.CreateHistogram<int>("kms.gateway.contacts_per_batch", "{contact}", "Contacts a gateway sends to a window in one message");

    /// <summary>Time from a gateway sending a batch until the window's answer is back: journal time plus
    /// messaging (and, in a cluster, the network).</summary>
    public static readonly Histogram<double> BatchRoundTrip =
        Meter.CreateHistogram<double>("kms.gateway.batch_round_trip.duration", "ms", "Time from a gateway sending a batch to a window until the answer");

    /// <summary>Contacts journaled, by window.</summary>
    public static readonly Counter<long> ContactsRecorded =
        Meter.CreateCounter<long>("kms.window.contacts_recorded", "{contact}", "Contacts journaled");

    /// <summary>Millisecond waits of SQLite writes for another connection's write lock (a snapshot or a trim
    /// crossing a journal write); a steady climb means the single SQLite writer is the limit.</summary>
    public static readonly Counter<long> SqliteBusyWaits =
        Meter.CreateCounter<long>("kms.sqlite.busy_waits", "{wait}", "Millisecond waits of an SQLite write for another connection's lock");

    /// <summary>Requests a gateway answered at once from its full window's grant.</summary>
    public static readonly Counter<long> GrantAnswers =
        Meter.CreateCounter<long>("kms.grant.answers", "{request}", "Requests answered from a full window's grant on the node they reached");

    /// <summary>Contacts answered from a grant that were dropped before reaching their window: the gateway's
    /// buffer overflowed while the window was away. Their answers stand; the window's latest contacts miss them.</summary>
    public static readonly Counter<long> GrantContactsDropped =
        Meter.CreateCounter<long>("kms.grant.contacts_dropped", "{contact}", "Contacts answered from a grant and dropped before the window journaled them");

    /// <summary>Revocations a window waited for before a batch that breaks its promise.</summary>
    public static readonly Counter<long> GrantRevocations =
        Meter.CreateCounter<long>("kms.grant.revocations", "{revocation}", "Grant revocations by windows");
}
