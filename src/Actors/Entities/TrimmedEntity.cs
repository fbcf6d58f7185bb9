using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace KmsCluster.Actors.Entities;

/// <summary>
/// A sharded persistent entity whose journal stays short: every <c>snapshotEvery</c> events it saves a
/// snapshot, then deletes its journal up to it and its older snapshots. A failed snapshot or delete is logged
/// and leaves the journal untrimmed until the next snapshot; it never stops the entity. The windows and the
/// host key ledgers share this, and differ only in what they decide and when they write.
/// </summary>
public abstract class TrimmedEntity : ReceivePersistentActor
{
    private readonly string _name;
    private readonly int _snapshotEvery;
    private long _lastSnapshotSequenceNr;

    /// <param name="persistenceId">The entity's journal key.</param>
    /// <param name="name">How log lines name the entity ("Window 26256b66...").</param>
    /// <param name="snapshotEvery">Events between snapshots.</param>
    protected TrimmedEntity(string persistenceId, string name, int snapshotEvery)
    {
        PersistenceId = persistenceId;
        _name = name;
        _snapshotEvery = snapshotEvery;
        Owner = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

        Command<SaveSnapshotSuccess>(success =>
        {
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure =>
            Log.Warning(failure.Cause, "{0}: snapshot at {1} failed; the journal stays untrimmed until the next one",
                _name, failure.Metadata.SequenceNr));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure =>
            Log.Warning(failure.Cause, "{0}: trimming the journal to {1} failed", _name, failure.ToSequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure =>
            Log.Warning(failure.Cause, "{0}: deleting old snapshots failed", _name));
    }

    public override string PersistenceId { get; }

    /// <summary>This node's address, shown in views so operators see where an entity lives.</summary>
    protected string Owner { get; }

    /// <summary>Call when recovery offers a snapshot: the next one is due <c>snapshotEvery</c> events after it.</summary>
    protected void SnapshotRecovered(SnapshotMetadata metadata) => _lastSnapshotSequenceNr = metadata.SequenceNr;

    /// <summary>Call once the state holds only durable events: saves a snapshot of it when one is due.</summary>
    protected void SnapshotIfDue(Func<object> snapshot)
    {
        if (LastSequenceNr - _lastSnapshotSequenceNr < _snapshotEvery) return;
        _lastSnapshotSequenceNr = LastSequenceNr;
        SaveSnapshot(snapshot());
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Log.Warning(reason, "{0}: recovery failed; the next request retries", _name);
        base.OnRecoveryFailure(reason, message);
    }
}
