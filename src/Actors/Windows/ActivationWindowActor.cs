using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using KmsCluster.Actors.Entities;
using KmsCluster.Actors.Grants;
using KmsCluster.Domain;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Windows;

/// <summary>How a window entity persists.</summary>
/// <param name="SnapshotEvery">Events between snapshots; after a snapshot the journal is trimmed up to it.</param>
/// <param name="Fence">Asked before every write; a closed fence stops the window (see <see cref="IWriteFence"/>).</param>
/// <param name="Grants">How a full window hands out grants (default <see cref="GrantSettings.Default"/>).</param>
public sealed record WindowSettings(int SnapshotEvery = 200, IWriteFence? Fence = null, GrantSettings? Grants = null)
{
    public static readonly WindowSettings Default = new();

    public IWriteFence EffectiveFence => Fence ?? OpenFence.Instance;

    public GrantSettings EffectiveGrants => Grants ?? GrantSettings.Default;
}

/// <summary>
/// The persistent, sharded contact window of one application. Group commit: while one event is being
/// written, arriving batches wait; when the write completes they are decided together and written as the
/// next single event. No batch is answered before the event holding it is durable; when a write fails,
/// every waiting batch is rejected and the actor stops, so the optimistically applied state is thrown away
/// and the next message recovers the window from the journal.
/// While full, the window grants its promise to every node's gateway (<see cref="WindowGrants"/>), and a batch
/// that would break the promise waits until the grants are revoked.
/// </summary>
public sealed class ActivationWindowActor : TrimmedEntity, IWithTimers
{
    private readonly WindowSettings _settings;
    private readonly TimeProvider _time;
    private readonly Guid _applicationId;
    private readonly WindowGrants _grants;

    private ContactWindow _window = new();
    private List<Waiting> _waiting = [];
    private List<Waiting> _writing = [];
    private readonly List<(IActorRef ReplyTo, GetWindow Query)> _queriesAfterWrite = [];
    private bool _stopping;

    /// <summary>The span of the journal write in flight, when a batch in it is traced.</summary>
    private Activity? _persistSpan;

    public ActivationWindowActor(string entityId, WindowSettings settings, TimeProvider time)
        : base("activation-window-" + entityId, "Window " + Guid.ParseExact(entityId, "N"), settings.SnapshotEvery)
    {
        _applicationId = Guid.ParseExact(entityId, "N");
        _settings = settings;
        _time = time;
        _grants = new WindowGrants(_applicationId, settings.EffectiveGrants, GrantTopic.For(Context.System), time);

        Recover<SnapshotOffer>(offer =>
        {
            _window = ContactWindow.FromSnapshot((WindowSnapshot)offer.Snapshot);
            SnapshotRecovered(offer.Metadata);
        });
        Recover<ContactsRecorded>(recorded => _window.Apply(recorded));
        Recover<RecoveryCompleted>(_ =>
        {
            Log.Info("Window {0} recovered at sequence {1}: {2} stored contacts",
                _applicationId, LastSequenceNr, _window.StoredContacts.Count());
            _grants.Recovered(_window, LastSequenceNr);
            _grants.Durable(_window, LastSequenceNr);
        });

        Command<RecordContacts>(batch =>
        {
            if (_stopping)
            {
                Sender.Tell(new ContactsRejected(batch.BatchId, MovingReason));
                if (WindowSpans.Record(_applicationId, batch) is { } rejected) KmsTracing.Fail(rejected, MovingReason);
                return;
            }
            _waiting.Add(new Waiting(batch, Sender, WindowSpans.Record(_applicationId, batch)));
            if (_writing.Count == 0)
            {
                WriteWaiting();
            }
        });
        Command<GrantsRevoked>(confirmation =>
        {
            if (_grants.Confirmed(confirmation)) ResumeAfterRevocation();
        });
        Command<CheckRevocation>(_ =>
        {
            if (_grants.Revoking && _grants.RevocationComplete()) ResumeAfterRevocation();
        });
        Command<RenewGrants>(_ =>
        {
            if (!RaiseWaiting()) _grants.Renew(_window);
        });
        Command<StopWindow>(_ =>
        {
            _stopping = true;
            if (_writing.Count == 0)
            {
                StopNow();
            }
        });
        Command<GetWindow>(query =>
        {
            // Only durable state is shown: a read during a write waits for that write.
            if (_writing.Count > 0)
            {
                _queriesAfterWrite.Add((Sender, query));
            }
            else
            {
                Sender.Tell(View());
            }
        });
    }

    public static Props Props(string entityId, WindowSettings settings, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new ActivationWindowActor(entityId, settings, time));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        base.PreStart();
        if (_settings.EffectiveGrants.Enabled)
        {
            Timers.StartPeriodicTimer(nameof(RenewGrants), RenewGrants.Instance, _settings.EffectiveGrants.EffectiveRenewEvery);
        }
    }

    private void ResumeAfterRevocation()
    {
        Timers.Cancel(nameof(CheckRevocation));
        if (_writing.Count == 0 && _waiting.Count > 0) WriteWaiting();
    }

    private void WriteWaiting()
    {
        if (!_settings.EffectiveFence.MayWrite)
        {
            Log.Warning("Window {0}: this node may no longer write (it was paused beyond failure detection); stopping",
                _applicationId);
            RejectAll("this node was paused and no longer serves; retry on another host");
            Context.Stop(Self);
            return;
        }
        if (_grants.Revoking) return; // resumes when the revocation completes

        // Contacts already answered from a grant were answered under the current capacity: a batch that raises it
        // is decided after them, in the next event.
        var answeredFirst = _waiting.Exists(w => w.Batch.Answered) && RaiseWaiting();
        var contacts = Together(answeredFirst ? _waiting.Where(w => w.Batch.Answered).ToList() : _waiting);
        var decision = _window.Decide(contacts, _time.GetUtcNow());
        if (_grants.MustRevokeBefore(decision))
        {
            Log.Info("Window {0}: the next batch breaks the full window's promise; revoking its grants first", _applicationId);
            _grants.StartRevocation();
            Timers.StartPeriodicTimer(nameof(CheckRevocation), CheckRevocation.Instance, RevocationCheckInterval);
            return;
        }
        _window.Apply(decision.Event);
        if (answeredFirst)
        {
            _writing.AddRange(_waiting.Where(w => w.Batch.Answered));
            _waiting.RemoveAll(w => w.Batch.Answered);
        }
        else
        {
            (_writing, _waiting) = (_waiting, _writing);
        }
        var started = Stopwatch.GetTimestamp();
        _persistSpan = _writing.Exists(w => w.Span is not null) ? WindowSpans.Persist(_writing.ConvertAll(w => w.Span), contacts.Length) : null;

        PersistAsync(decision.Event, recorded =>
        {
            KmsMetrics.JournalWrite.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (_persistSpan is { } persisted)
            {
                persisted.SetTag("kms.sequence_nr", LastSequenceNr);
                KmsTracing.Stop(persisted);
                _persistSpan = null;
            }
            KmsMetrics.ContactsPerEvent.Record(contacts.Length);
            KmsMetrics.ContactsRecorded.Add(contacts.Length);
            var offset = 0;
            foreach (var written in _writing)
            {
                var length = written.Batch.Contacts.Length;
                // Contacts answered from a grant need no counts back, only the acknowledgement.
                int[] counts = written.Batch.Answered ? [] : decision.Counts.AsSpan(offset, length).ToArray();
                offset += length;
                written.ReplyTo.Tell(new ContactsAccepted(written.Batch.BatchId, recorded.RecordedAt, counts));
                if (written.Span is { } span) KmsTracing.Stop(span);
            }
            _writing.Clear();
            // No new grant while a batch that raises the capacity waits: it would only have to be revoked again.
            if (!RaiseWaiting()) _grants.Durable(_window, LastSequenceNr);
            foreach (var (replyTo, _) in _queriesAfterWrite)
            {
                replyTo.Tell(View());
            }
            _queriesAfterWrite.Clear();
            SnapshotIfDue(_window.ToSnapshot);
            if (_stopping)
            {
                StopNow();
            }
            else if (_waiting.Count > 0)
            {
                WriteWaiting();
            }
        });
    }

    /// <summary>The contacts of the batches written in one event, in order (a lone batch's own array: at full
    /// windows' rates this runs for every event).</summary>
    private static Domain.ContactRequest[] Together(List<Waiting> batches)
    {
        if (batches.Count == 1) return batches[0].Batch.Contacts;
        var contacts = new Domain.ContactRequest[batches.Sum(w => w.Batch.Contacts.Length)];
        var offset = 0;
        foreach (var waiting in batches)
        {
            waiting.Batch.Contacts.CopyTo(contacts, offset);
            offset += waiting.Batch.Contacts.Length;
        }
        return contacts;
    }

    private bool RaiseWaiting() =>
        _waiting.Exists(w => !w.Batch.Answered && w.Batch.Contacts.Any(c => c.Threshold > _window.HighestThreshold));

    private WindowView View()
    {
        var now = _time.GetUtcNow();
        var contacts = _window.ContactsAt(now).ToArray();
        return new WindowView(_applicationId, now, contacts.Length, _window.Capacity, _window.HighestThreshold,
            _window.Requests, _window.Activated, _window.LastRecordedAt, Owner, contacts);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Log.Warning(cause, "Window {0}: writing event {1} failed; rejecting {2} waiting batches and restarting from the journal",
            _applicationId, sequenceNr, _writing.Count + _waiting.Count);
        RejectAll($"the window could not journal the contacts: {cause.Message}");
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "Window {0}: the journal rejected event {1}; restarting from the journal", _applicationId, sequenceNr);
        RejectAll($"the journal rejected the contacts: {cause.Message}");
        // The state already holds the rejected batch: throw it away by recovering afresh.
        Context.Stop(Self);
    }

    private const string MovingReason = "the window is moving to another node; retry";

    /// <summary>Hand-off: nothing is in flight, so nothing owed is lost by stopping now.</summary>
    private void StopNow()
    {
        RejectAll(MovingReason);
        Context.Stop(Self);
    }

    private void RejectAll(string reason)
    {
        if (_persistSpan is { } persist)
        {
            KmsTracing.Fail(persist, reason);
            _persistSpan = null;
        }
        foreach (var waiting in _writing.Concat(_waiting))
        {
            waiting.ReplyTo.Tell(new ContactsRejected(waiting.Batch.BatchId, reason));
            if (waiting.Span is { } span) KmsTracing.Fail(span, reason);
        }
        _writing.Clear();
        _waiting.Clear();
        foreach (var (replyTo, _) in _queriesAfterWrite)
        {
            replyTo.Tell(new Status.Failure(new InvalidOperationException(reason)));
        }
        _queriesAfterWrite.Clear();
    }

    /// <summary>How often a pending revocation checks whether the last lease has run out.</summary>
    private static readonly TimeSpan RevocationCheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly record struct Waiting(RecordContacts Batch, IActorRef ReplyTo, Activity? Span);

    private sealed class CheckRevocation
    {
        public static readonly CheckRevocation Instance = new();
    }

    private sealed class RenewGrants
    {
        public static readonly RenewGrants Instance = new();
    }
}
