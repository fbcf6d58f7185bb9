using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// Recovers a persistence id that is never written, once when the node starts, so that the journal and the
/// snapshot store have run their recovery queries before a real entity needs them. The first recovery in a
/// process pays for opening the store's connections and for linq2db building its queries, which took 0.8-1 s
/// on the development machine: a window moving to a node that had not recovered anything yet (after its
/// owner was killed) answered that much later. Nothing is written; a failure only leaves the store cold.
/// </summary>
public sealed class JournalWarmUp : UntypedPersistentActor
{
    private readonly Stopwatch _started = Stopwatch.StartNew();

    public override string PersistenceId => "kms-journal-warm-up";

    protected override void OnRecover(object message)
    {
        if (message is RecoveryCompleted)
        {
            Context.GetLogger().Debug("Journal and snapshot store warmed up in {0:0} ms", _started.Elapsed.TotalMilliseconds);
            Context.Stop(Self);
        }
    }

    protected override void OnCommand(object message)
    {
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        Context.GetLogger().Info("Journal warm-up failed ({0}); the first recovery on this node will be slower", reason.Message);
}
