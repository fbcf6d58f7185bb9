using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using KmsCluster.Actors.Entities;
using KmsCluster.Domain;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Windows;

/// <summary>How a window entity persists.</summary>
/// <param name="SnapshotEvery">Events between snapshots; after a snapshot the journal is trimmed up to it.</param>
/// <param name="Fence">Asked before every write; a closed fence stops the window (see <see cref="IWriteFence"/>).</param>
public sealed record WindowSettings(int SnapshotEvery = 200, IWriteFence? Fence = null)
{
    public static readonly WindowSettings Default = new();

    public IWriteFence EffectiveFence => Fence ?? OpenFence.Instance;
}

/// <summary>
/// The persistent, sharded contact window of one application. Group commit: while one event is being
/// written, arriving batches wait; when the write completes they are decided together and written as the
/// next single event. No batch is answered before the event holding it is durable; when a write fails,
/// every waiting batch is rejected and the actor stops, so the optimistically applied state is thrown away
/// and the next message recovers the window from the journal.
/// </summary>
public sealed class ActivationWindowActor : TrimmedEntity
{
    private readonly WindowSettings _settings;
    private readonly TimeProvider _time;
    private readonly Guid _applicationId;

    private ContactWindow _window = new();
    private List<Waiting> _waiting = [];
    private List<Waiting> _writing = [];
    private readonly List<(IActorRef ReplyTo, GetWindow Query)> _queriesAfterWrite = [];
    private bool _stopping;

    public ActivationWindowActor(string entityId, WindowSettings settings, TimeProvider time)
        : base("activation-window-" + entityId, "Window " + Guid.ParseExact(entityId, "N"), settings.SnapshotEvery)
    {
        _applicationId = Guid.ParseExact(entityId, "N");
        _settings = settings;
        _time = time;

        Recover<SnapshotOffer>(offer =>
        {
            _window = ContactWindow.FromSnapshot((WindowSnapshot)offer.Snapshot);
            SnapshotRecovered(offer.Metadata);
        });
        Recover<ContactsRecorded>(recorded => _window.Apply(recorded));
        Recover<RecoveryCompleted>(_ => Log.Info("Window {0} recovered at sequence {1}: {2} stored contacts",
            _applicationId, LastSequenceNr, _window.StoredContacts.Count()));

        Command<RecordContacts>(batch =>
        {
            if (_stopping)
            {
                Sender.Tell(new ContactsRejected(batch.BatchId, MovingReason));
                return;
            }
            _waiting.Add(new Waiting(batch, Sender));
            if (_writing.Count == 0)
            {
                WriteWaiting();
            }
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
        var contacts = new List<Domain.ContactRequest>();
        foreach (var waiting in _waiting)
        {
            contacts.AddRange(waiting.Batch.Contacts);
        }
        var decision = _window.Decide(contacts, _time.GetUtcNow());
        _window.Apply(decision.Event);
        (_writing, _waiting) = (_waiting, _writing);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        PersistAsync(decision.Event, recorded =>
        {
            KmsMetrics.JournalWrite.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            KmsMetrics.ContactsPerEvent.Record(contacts.Count);
            KmsMetrics.ContactsRecorded.Add(contacts.Count);
            var offset = 0;
            foreach (var written in _writing)
            {
                var counts = decision.Counts.AsSpan(offset, written.Batch.Contacts.Length).ToArray();
                offset += counts.Length;
                written.ReplyTo.Tell(new ContactsAccepted(written.Batch.BatchId, recorded.RecordedAt, counts));
            }
            _writing.Clear();
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
        foreach (var waiting in _writing.Concat(_waiting))
        {
            waiting.ReplyTo.Tell(new ContactsRejected(waiting.Batch.BatchId, reason));
        }
        _writing.Clear();
        _waiting.Clear();
        foreach (var (replyTo, _) in _queriesAfterWrite)
        {
            replyTo.Tell(new Status.Failure(new InvalidOperationException(reason)));
        }
        _queriesAfterWrite.Clear();
    }

    private readonly record struct Waiting(RecordContacts Batch, IActorRef ReplyTo);
}
