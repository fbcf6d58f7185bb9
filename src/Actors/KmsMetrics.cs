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

    /// <summary>Bucket bounds of the millisecond histograms: an answer from a grant takes microseconds, a journal
    /// write a few milliseconds, a timeout seconds; the exporters' default buckets start at 5 ms.</summary>
    private static readonly InstrumentAdvice<double> Milliseconds = new()
    {
        HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    };

    /// <summary>Bucket bounds of the batch size histograms: one contact up to a 50 ms flush at high load.</summary>
    private static readonly InstrumentAdvice<int> BatchSizes = new()
    {
        HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    };

    public const string ActivationDurationName = "kms.activation.duration";

    /// <summary>Time from a valid request reaching the node until its answer is ready (window journaled).</summary>
    public static readonly Histogram<double> ActivationDuration =
        Meter.CreateHistogram<double>(ActivationDurationName, "ms", "Time from a request read to its answer ready to write", tags: null, advice: Milliseconds);

    /// <summary>Time from handing a window's event to the journal until it is durable.</summary>
    public static readonly Histogram<double> JournalWrite =
        Meter.CreateHistogram<double>("kms.window.journal_write.duration", "ms", "Time to journal one window event (one group commit)", tags: null, advice: Milliseconds);

    /// <summary>Contacts per journaled event: the group commit's batch size.</summary>
    public static readonly Histogram<int> ContactsPerEvent =
        Meter.CreateHistogram<int>("kms.window.contacts_per_event", "{contact}", "Contacts journaled together in one event", tags: null, advice: BatchSizes);

    /// <summary>Contacts per message from a node's gateway to a window.</summary>
    public static readonly Histogram<int> ContactsPerBatch =
        Meter.CreateHistogram<int>("kms.gateway.contacts_per_batch", "{contact}", "Contacts a gateway sends to a window in one message", tags: null, advice: BatchSizes);

    /// <summary>Time from a gateway sending a batch until the window's answer is back: journal time plus
    /// messaging (and, in a cluster, the network).</summary>
    public static readonly Histogram<double> BatchRoundTrip =
        Meter.CreateHistogram<double>("kms.gateway.batch_round_trip.duration", "ms", "Time from a gateway sending a batch to a window until the answer", tags: null, advice: Milliseconds);

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
