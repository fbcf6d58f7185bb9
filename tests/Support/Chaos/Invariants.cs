namespace KmsCluster.Testing.Chaos;

/// <summary>The names of the invariants the chaos checker proves (see <see cref="HistoryChecker"/> for each).</summary>
public static class Invariants
{
    public const string SupportedCount = "supported-count";
    public const string HonestActivation = "honest-activation";
    public const string NoDoubleCount = "no-double-count";
    public const string AcknowledgedDurable = "acknowledged-durable";
    public const string AcknowledgedKept = "acknowledged-kept";
    public const string NodesAgree = "nodes-agree";
    /// <summary>Checked on the journal by <see cref="HistoryChecker"/>, and on the nodes' views by <see cref="FaultInjector"/>
    /// when the cluster does not settle after a fault.</summary>
    public const string SingleOwner = "single-owner";

    /// <summary>Not a promise of the cluster's data but of its fault handling: a frozen node leaves when woken, a
    /// killed or stopped node starts again, the cluster settles with an owner for every window after each fault.</summary>
    public const string FaultRecovery = "fault-recovery";

    public static readonly IReadOnlyList<string> All =
        [SupportedCount, HonestActivation, NoDoubleCount, AcknowledgedDurable, AcknowledgedKept, NodesAgree, SingleOwner, FaultRecovery];
}
