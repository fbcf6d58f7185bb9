using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using KmsCluster.Actors.Grants;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Gateway;

/// <summary>How a gateway batches.</summary>
/// <param name="MaxBatchSize">Most contacts in one message to the window (fewer when they would take more than
/// <see cref="RecordContacts.MaxContactBytes"/>).</param>
/// <param name="MaxBatchesInFlight">Batches sent and not yet answered; while that many are out, contacts
/// gather for the next batch. One (the default) lets everything that arrives during a journal write go out as
/// the next batch: larger batches, fewer commits, more throughput under load (measured, docs/benchmarks.md).
/// Two keeps the window busy while an answer travels back, which pays off only across a slow network.</param>
/// <param name="ReplyTimeout">A batch not answered within this gets a retryable error (window moving,
/// database down); the client tries again.</param>
/// <param name="MaxQueuedContacts">Contacts waiting beyond this are refused with "server busy".</param>
/// <param name="Grants">Whether and how the gateway answers from its window's grants.</param>
public sealed record GatewaySettings(
    int MaxBatchSize = 4096,
    int MaxBatchesInFlight = 1,
    TimeSpan? ReplyTimeout = null,
    int MaxQueuedContacts = 200_000,
    GrantSettings? Grants = null)
{
    public TimeSpan EffectiveReplyTimeout => ReplyTimeout ?? TimeSpan.FromSeconds(5);

    public GrantSettings EffectiveGrants => Grants ?? GrantSettings.Default;

    public static readonly GatewaySettings Default = new();
}

/// <summary>
/// Node-local batcher in front of one application's window. Contacts from every connection of this node
/// gather here and go to the window (wherever in the cluster it lives) as one <see cref="RecordContacts"/>
/// message, so neither remoting nor the journal pays per request. Natural batching: a contact is sent at
/// once while fewer than <see cref="GatewaySettings.MaxBatchesInFlight"/> batches are out, so a quiet host
/// adds no delay and a busy one sends large batches.
/// While the window is full, the gateway holds its grant (<see cref="GrantedAnswers"/>): requests the grant covers
/// are answered on the caller's thread and their contacts reach this actor's buffer, which it sends to the window
/// every <see cref="GrantSettings.FlushInterval"/> (or sooner when a batch is full) and keeps, bounded, while the
/// window is away.
/// </summary>
public sealed class ContactGateway : ReceiveActor, IWithTimers
{
    private readonly Guid _applicationId;
    private readonly IActorRef _windows;
    private readonly GatewaySettings _settings;
    private readonly GrantedAnswers _answers;
    private readonly GrantTopic _topic;
    private Queue<ContactSubmission> _queued = new();
    private readonly Dictionary<long, InFlight> _inFlight = new();
    private readonly Dictionary<long, AnsweredInFlight> _answeredInFlight = new();
    private readonly List<IActorRef> _drainWaiters = [];
    private long _nextBatchId;

    public ContactGateway(Guid applicationId, IActorRef windows, GatewaySettings settings, GrantedAnswers answers)
    {
        _applicationId = applicationId;
        _windows = windows;
        _settings = settings;
        _answers = answers;
        _topic = GrantTopic.For(Context.System);

        Receive<ContactSubmission>(submission =>
        {
            if (_queued.Count >= _settings.MaxQueuedContacts)
            {
                submission.Failed(ErrorCode.ServerBusy, "too many requests waiting on this node; retry later");
                return;
            }
            _queued.Enqueue(submission);
            SendBatches();
        });
        // Without a cluster, every gateway hears every window's grants: keep only this application's.
        Receive<WindowGrant>(grant =>
        {
            if (grant.ApplicationId == _applicationId) _answers.Accept(grant);
        });
        Receive<RevokeGrants>(revoke =>
        {
            if (revoke.ApplicationId != _applicationId) return;
            // The answered contacts first, then the confirmation, on the same path: the window decides them
            // before the batch it revoked for.
            SendAnswered(_answers.Revoke(revoke.Epoch));
            _windows.Tell(new GrantsRevoked(_applicationId, revoke.Epoch, _topic.SelfNode), Self);
        });
        Receive<FlushAnswered>(_ => FlushAnswered());
        Receive<DrainAnswered>(_ =>
        {
            _drainWaiters.Add(Sender);
            FlushAnswered();
        });
        Receive<ContactsAccepted>(accepted =>
        {
            if (_answeredInFlight.Remove(accepted.BatchId))
            {
                // The timer sends the rest: one event per flush interval, not one per commit, keeps the journal's
                // commits (and their fsyncs) few while answers do not wait for them. A full batch or a node
                // draining for shutdown goes at once.
                if (_drainWaiters.Count > 0 || _answers.Buffered >= _settings.MaxBatchSize) FlushAnswered();
                return;
            }
            if (!_inFlight.Remove(accepted.BatchId, out var batch)) return; // already timed out
            KmsMetrics.BatchRoundTrip.Record(Stopwatch.GetElapsedTime(batch.SentAt).TotalMilliseconds);
            if (accepted.Counts.Length != batch.Submissions.Length)
            {
                // Cannot happen with a matching window; never guess which count belongs to whom.
                foreach (var submission in batch.Submissions)
                {
                    submission.Failed(ErrorCode.InternalError,
                        $"the window answered {accepted.Counts.Length} counts for {batch.Submissions.Length} contacts");
                }
                SendBatches();
                return;
            }
            for (var i = 0; i < batch.Submissions.Length; i++)
            {
                batch.Submissions[i].Recorded(accepted.RecordedAt, accepted.Counts[i]);
            }
            SendBatches();
        });
        Receive<ContactsRejected>(rejected =>
        {
            if (_answeredInFlight.Remove(rejected.BatchId, out var answered))
            {
                _answers.Return(answered.Contacts); // sent again at the next flush
                return;
            }
            if (!_inFlight.Remove(rejected.BatchId, out var batch)) return;
            FailAll(batch.Submissions, rejected.Reason);
            SendBatches();
        });
        // A member left the cluster: batches sent to a window it owned will never be answered, and waiting for
        // their timeout would hold back everything queued behind them. Send them again; the region routes them
        // to the window's new home. (A batch its old owner did journal is recorded twice: the same machines,
        // so the count does not change.)
        Receive<ClusterEvent.MemberRemoved>(_ => Timers.StartSingleTimer(nameof(ResendInFlight), ResendInFlight.Instance, ResendDelay));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<ResendInFlight>(_ =>
        {
            ReturnAnswered(_answeredInFlight.Keys.ToArray());
            FlushAnswered();
            if (_inFlight.Count == 0) return;
            var again = _inFlight.OrderBy(b => b.Key).SelectMany(b => b.Value.Submissions).Concat(_queued).ToArray();
            _inFlight.Clear();
            _queued = new Queue<ContactSubmission>(again);
            SendBatches();
        });
        Receive<CheckTimeouts>(_ =>
        {
            var now = Environment.TickCount64;
            foreach (var (batchId, batch) in _inFlight.Where(b => b.Value.Deadline <= now).ToArray())
            {
                _inFlight.Remove(batchId);
                FailAll(batch.Submissions,
                    $"the window did not answer within {_settings.EffectiveReplyTimeout.TotalSeconds:0.#} s");
            }
            ReturnAnswered(_answeredInFlight.Where(b => b.Value.Deadline <= now).Select(b => b.Key).ToArray());
            SendBatches();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Guid applicationId, IActorRef windows, GatewaySettings settings, GrantedAnswers answers) =>
        Akka.Actor.Props.Create(() => new ContactGateway(applicationId, windows, settings, answers));

    /// <summary>Give the shard region a moment to learn of the removal too, so a resent batch is not routed
    /// to the departed node once more.</summary>
    private static readonly TimeSpan ResendDelay = TimeSpan.FromMilliseconds(300);

    protected override void PreStart()
    {
        if (Context.System.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal))
        {
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.MemberRemoved));
        }
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, _settings.EffectiveReplyTimeout.Ticks / 10));
        Timers.StartPeriodicTimer(nameof(CheckTimeouts), CheckTimeouts.Instance, period);
        if (_settings.EffectiveGrants.Enabled)
        {
            _topic.Subscribe(_applicationId, Self);
            Timers.StartPeriodicTimer(nameof(FlushAnswered), Gateway.FlushAnswered.Instance, _settings.EffectiveGrants.EffectiveFlushInterval);
        }
    }

    protected override void PostStop()
    {
        if (Context.System.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal))
        {
            Cluster.Get(Context.System).Unsubscribe(Self);
        }
        foreach (var batch in _inFlight.Values)
        {
            FailAll(batch.Submissions, "the node is shutting down");
        }
        FailAll(_queued.ToArray(), "the node is shutting down");
    }

    private void SendBatches()
    {
        while (_queued.Count > 0 && _inFlight.Count < _settings.MaxBatchesInFlight)
        {
            var submissions = new ContactSubmission[RecordContacts.Fitting(_queued.Select(s => s.Contact), _settings.MaxBatchSize)];
            var contacts = new Domain.ContactRequest[submissions.Length];
            List<TraceContext>? traces = null;
            for (var i = 0; i < submissions.Length; i++)
            {
                submissions[i] = _queued.Dequeue();
                contacts[i] = submissions[i].Contact;
                if (submissions[i].Trace is { } trace && (traces?.Count ?? 0) < RecordContacts.MaxTraces)
                {
                    (traces ??= []).Add(trace);
                }
            }
            var batchId = ++_nextBatchId;
            KmsMetrics.ContactsPerBatch.Record(contacts.Length);
            _inFlight.Add(batchId, new InFlight(submissions, Environment.TickCount64 + (long)_settings.EffectiveReplyTimeout.TotalMilliseconds, Stopwatch.GetTimestamp()));
            _windows.Tell(new RecordContacts(_applicationId, batchId, contacts) { Traces = traces?.ToArray() ?? [] }, Self);
        }
    }

    /// <summary>Sends the contacts answered from grants, a batch at a time, two batches at most in flight: the
    /// window journals them as any other; while it is away they stay in the buffer.</summary>
    private void FlushAnswered()
    {
        while (_answeredInFlight.Count < MaxAnsweredBatchesInFlight && _answers.Buffered > 0)
        {
            SendAnswered(_answers.Drain(_settings.MaxBatchSize));
        }
        if (_drainWaiters.Count > 0 && _answeredInFlight.Count == 0)
        {
            foreach (var waiter in _drainWaiters) waiter.Tell(AnsweredDrained.Instance);
            _drainWaiters.Clear();
        }
    }

    private void SendAnswered(Domain.ContactRequest[] contacts)
    {
        // A revocation hands over the whole buffer: as many messages as it takes.
        for (var offset = 0; offset < contacts.Length;)
        {
            var length = RecordContacts.Fitting(new ArraySegment<Domain.ContactRequest>(contacts, offset, contacts.Length - offset), int.MaxValue);
            var batch = length == contacts.Length ? contacts : contacts[offset..(offset + length)];
            offset += length;
            var batchId = ++_nextBatchId;
            _answeredInFlight.Add(batchId, new AnsweredInFlight(batch, Environment.TickCount64 + (long)_settings.EffectiveReplyTimeout.TotalMilliseconds));
            _windows.Tell(new RecordContacts(_applicationId, batchId, batch, Answered: true), Self);
        }
    }

    private void ReturnAnswered(long[] batchIds)
    {
        // Newest first: each goes in front of the buffer, so the oldest ends up first.
        foreach (var batchId in batchIds.OrderDescending())
        {
            if (_answeredInFlight.Remove(batchId, out var batch)) _answers.Return(batch.Contacts);
        }
    }

    private const int MaxAnsweredBatchesInFlight = 2;

    private static void FailAll(IEnumerable<ContactSubmission> submissions, string reason)
    {
        foreach (var submission in submissions)
        {
            submission.Failed(ErrorCode.WindowUnavailable, reason);
        }
    }

    // Deadline on the monotonic millisecond clock: wall-clock jumps must not time batches out.
    private sealed record InFlight(ContactSubmission[] Submissions, long Deadline, long SentAt);

    private sealed record AnsweredInFlight(Domain.ContactRequest[] Contacts, long Deadline);

    private sealed class CheckTimeouts
    {
        public static readonly CheckTimeouts Instance = new();
    }

    /// <summary>Sends every unanswered batch again (after a member left; tests send it directly).</summary>
    public sealed class ResendInFlight
    {
        public static readonly ResendInFlight Instance = new();

        private ResendInFlight()
        {
        }
    }
}

/// <summary>Asks a gateway to send every contact answered from its grant and to reply
/// <see cref="AnsweredDrained"/> once the window has journaled them all (a node shutting down).</summary>
public sealed class DrainAnswered
{
    public static readonly DrainAnswered Instance = new();

    private DrainAnswered()
    {
    }
}

public sealed class AnsweredDrained
{
    public static readonly AnsweredDrained Instance = new();

    private AnsweredDrained()
    {
    }
}

/// <summary>Tells a gateway to send the contacts answered from its grant now (its timer, or a full batch).</summary>
public sealed class FlushAnswered
{
    public static readonly FlushAnswered Instance = new();

    private FlushAnswered()
    {
    }
}
