using System.Reflection;
using Akka.Actor;
using Akka.Cluster.SBR;
using Akka.Event;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Makes the split brain resolver look at its stable-after deadline every 100 ms instead of every second.
/// Akka.NET's resolver (1.5.73) checks its deadline on a fixed 1 s tick (SplitBrainResolverBase.TickInterval,
/// neither configurable nor overridable outside Akka.Cluster), so its decision came 0-1 s after stable-after had
/// passed: half a second of every failover on average, a whole one at worst (docs/benchmarks.md). This sends the
/// resolver its own tick message in between. Everything the resolver does on a tick asks whether a deadline has
/// passed (stable-after, down-all-when-unstable, lease release) and it ignores ticks while it waits for the
/// lease, so more ticks only make it punctual: the soonest a silent node can be downed, failure detection plus
/// stable-after, is the same. The tick is internal to Akka.Cluster and found by reflection; when an upgrade
/// renames it, the node logs a warning and decides on Akka's own tick again (ResolverTickerTests fails first).
/// </summary>
public sealed class ResolverTicker : ReceiveActor, IWithTimers
{
    /// <summary>A fifteenth of stable-after: the decision comes at most this late. A tick costs one local message
    /// and a few comparisons.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Where Akka.Cluster starts the downing provider's actor (ClusterCoreDaemon's child).</summary>
    public const string ResolverPath = "/system/cluster/core/daemon/downingProvider";

    /// <summary>The resolver's own tick message, or null when this Akka.Cluster has none by that name.</summary>
    public static readonly object? Tick = typeof(SplitBrainResolverProvider).Assembly
        .GetType("Akka.Cluster.SBR.SplitBrainResolverBase+Tick")
        ?.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);

    private const int MaxLookups = 30;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly object _tick;
    private IActorRef _resolver = ActorRefs.Nobody;
    private int _lookups;

    /// <param name="tick">The resolver's tick message (<see cref="Tick"/>).</param>
    public ResolverTicker(object tick)
    {
        _tick = tick;
        Receive<ActorIdentity>(identity =>
        {
            if (identity.Subject is null)
            {
                // The cluster starts its daemons asynchronously; look again a little later.
                if (++_lookups < MaxLookups)
                {
                    Timers.StartSingleTimer(nameof(LookUp), LookUp.Instance, TimeSpan.FromSeconds(1));
                    return;
                }
                _log.Warning("No split brain resolver at {0}: it decides on its own 1 s tick", ResolverPath);
                Context.Stop(Self);
                return;
            }
            _resolver = identity.Subject;
            Context.Watch(_resolver);
            Timers.StartPeriodicTimer(nameof(Beat), Beat.Instance, Interval);
        });
        Receive<LookUp>(_ => Context.ActorSelection(ResolverPath).Tell(new Identify(null)));
        Receive<Beat>(_ => _resolver.Tell(_tick, ActorRefs.NoSender));
        // The resolver stops with the cluster (a node leaving or downed): nothing left to tick.
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Self.Tell(LookUp.Instance);

    private sealed class LookUp
    {
        public static readonly LookUp Instance = new();
    }

    private sealed class Beat
    {
        public static readonly Beat Instance = new();
    }
}
