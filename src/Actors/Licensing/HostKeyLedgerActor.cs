using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using KmsCluster.Actors.Entities;
using KmsCluster.Domain;
using static KmsCluster.Actors.Licensing.LedgerProtocol;

namespace KmsCluster.Actors.Licensing;

/// <summary>How a ledger entity persists.</summary>
/// <param name="SnapshotEvery">Events between snapshots; after a snapshot the journal is trimmed up to it.</param>
/// <param name="Fence">Asked before every write, as the windows do (see <see cref="IWriteFence"/>).</param>
public sealed record LedgerSettings(int SnapshotEvery = 20, IWriteFence? Fence = null)
{
    public static readonly LedgerSettings Default = new();

    public IWriteFence EffectiveFence => Fence ?? OpenFence.Instance;
}

/// <summary>
/// The persistent, sharded host activation ledger of one host key: which hosts activated under it and how often
/// each re-activated. One entity per key in the whole cluster, so the 6-host and 9-re-activation limits hold
/// across every node; it lives on the journal the windows use. Activations are rare: each counted one is
/// persisted on its own (Persist, which holds later commands back until it is durable) and answered only then.
/// </summary>
public sealed class HostKeyLedgerActor : TrimmedEntity
{
    private readonly LedgerSettings _settings;
    private readonly TimeProvider _time;
    private readonly string _keyId;
    private HostKeyLedger _ledger = new();

    public HostKeyLedgerActor(string keyId, LedgerSettings settings, TimeProvider time)
        : base(PersistenceIdOf(keyId), "Host key ledger " + keyId, settings.SnapshotEvery)
    {
        _keyId = keyId;
        _settings = settings;
        _time = time;

        Recover<SnapshotOffer>(offer =>
        {
            _ledger = HostKeyLedger.FromSnapshot((HostKeyLedgerSnapshot)offer.Snapshot);
            SnapshotRecovered(offer.Metadata);
        });
        Recover<HostActivationRecorded>(recorded => _ledger.Apply(recorded));
        Recover<RecoveryCompleted>(_ => Log.Info("Host key ledger {0} recovered at sequence {1}: {2} hosts",
            _keyId, LastSequenceNr, _ledger.Hosts.Count));

        Command<ActivateHost>(request =>
        {
            var (outcome, recorded) = _ledger.Decide(request.RequestId, request.HostId, request.HostName,
                request.Reactivate, request.HostLimit, _time.GetUtcNow());
            if (recorded is null)
            {
                if (outcome is HostActivationOutcome.HostLimitReached or HostActivationOutcome.ReactivationLimitReached)
                {
                    Log.Warning("Host key {0}: refused host {1} ({2}): {3}", _keyId, request.HostId, request.HostName, outcome);
                }
                Sender.Tell(new HostActivationResult(_keyId, request.HostId, outcome, View()));
                return;
            }
            if (!_settings.EffectiveFence.MayWrite)
            {
                // The asker times out and asks again, by then of the ledger's new home.
                Log.Warning("Host key ledger {0}: this node may no longer write (it was paused beyond failure detection); stopping", _keyId);
                Context.Stop(Self);
                return;
            }
            var replyTo = Sender;
            Persist(recorded, durable =>
            {
                _ledger.Apply(durable);
                Log.Info("Host key {0}: host {1} ({2}) {3}", _keyId, durable.HostId, durable.HostName, outcome);
                replyTo.Tell(new HostActivationResult(_keyId, request.HostId, outcome, View()));
                SnapshotIfDue(_ledger.ToSnapshot);
            });
        });
        Command<GetHostKeyLedger>(_ => Sender.Tell(View()));
        Command<StopLedger>(_ => Context.Stop(Self));
    }

    public static string PersistenceIdOf(string keyId) => "host-key-ledger-" + keyId;

    public static Props Props(string keyId, LedgerSettings settings, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new HostKeyLedgerActor(keyId, settings, time));

    private HostKeyLedgerView View() => new(_keyId, _ledger.Hosts.ToArray(), Owner);

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // No answer: the asking node retries, and the entity recovers from the journal on the next message.
        Log.Warning(cause, "Host key ledger {0}: writing event {1} failed; restarting from the journal", _keyId, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
