using Akka.Configuration;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Akka.NET cluster settings tuned for a LAN service whose windows must move quickly when a node dies:
/// heartbeats every 500 ms, a node silent for about 2 s is unreachable, the split brain resolver decides
/// after 1.5 s of stability (looking every 100 ms, <see cref="ResolverTicker"/>), the leader acts and gossips
/// every 250 ms, and sharding reallocates a removed node's windows after a 0.1 s margin. The short margin is
/// safe because the database, not timing, keeps a window single-writer (see PostgresStore). Cluster actors run
/// on two dedicated threads, so a busy thread pool (the activation hot path) cannot delay heartbeats into a
/// false failure. docs/architecture.md has the reasons for each number, docs/benchmarks.md what they give.
/// </summary>
public static class ClusterConfig
{
    /// <summary>
    /// The soonest the others may down a node that froze, less a margin. The failure detector marks a node
    /// unreachable after about 2 s without a heartbeat answer (the 500 ms interval, the 1 s acceptable pause and
    /// 5 of its 100 ms minimum deviations at phi 8); the last answer may have left up to one interval before the
    /// freeze began, so a freeze of 1.5 s can be enough for that. The resolver then waits stable-after, 1.5 s: 3 s
    /// in all. A node frozen 2.5 s or more presumes itself downed (see <see cref="FreezeWatchdog"/>); the 0.5 s
    /// margin covers the watchdog's own 100 ms tick and a heartbeat answer that travelled slowly.
    /// </summary>
    public static readonly TimeSpan PresumedDownedAfterFreeze = TimeSpan.FromSeconds(2.5);

    /// <summary>
    /// The settings Akka.Cluster.Hosting has no typed option for (1.5.73: ClusterOptions and the split brain
    /// resolver options cover seeds, roles, failure detector, strategy, down-if-alone and lease only): gossip,
    /// reaper and leader intervals, the resolver's timings, sharding and singleton retries, the cluster
    /// dispatcher and the shutdown hook. The typed part is in <see cref="KmsClusterHosting"/>.
    /// </summary>
    public static Config Tuning(SplitBrainStrategy splitBrain) => ConfigurationFactory.ParseString($$"""
        akka.cluster {
          # A downed node (partitioned away, or frozen and woken) leaves and its process stops.
          run-coordinated-shutdown-when-down = on
          shutdown-after-unsuccessful-join-seed-nodes = off
          seed-node-timeout = 3s
          retry-unsuccessful-join-after = 3s
          # A downing and the removal that follows reach every member, and are acted on, within about half a
          # second (a few small messages a second between three nodes).
          gossip-interval = 250ms
          leader-actions-interval = 250ms
          # How often the failure detector's verdict is read: the same verdict, at most 0.1 s late.
          unreachable-nodes-reaper-interval = 100ms
          # Sharding and the coordinator singleton wait this long after a removal before starting the removed
          # node's windows elsewhere. The database keeps a window single-writer, not this margin; 0 would mean
          # stable-after (1.5 s) to the resolver.
          down-removal-margin = 100ms
          use-dispatcher = kms-cluster-dispatcher
          split-brain-resolver {
            stable-after = 1500ms
            # Akka downs the whole cluster when reachability keeps changing for stable-after + this (4 s by
            # default); a node restarting while another dies looks like that. With the lease only one side can
            # win anyway, so that safety net is off; without it, it waits longer.
            down-all-when-unstable = {{(splitBrain == SplitBrainStrategy.LeaseMajority ? "off" : "15s")}}
            lease-majority {
              # Short: in a real partition the majority side asks first; a crashed node cannot ask at all.
              acquire-lease-delay-for-minority = 1s
              # Keep the lease while the holder lives (see PostgresLease): a woken or cut-off minority must
              # never find it free.
              release-after = 1d
            }
          }
          sharding {
            # A region holding messages for a window without a home asks the coordinator again this often. 100 ms
            # failed over no faster (measured) and repeats the region's warnings while a node joins 2.5 times as often.
            retry-interval = 250ms
            coordinator-failure-backoff = 1s
            waiting-for-state-timeout = 2s
            updating-state-timeout = 2s
            shard-start-timeout = 5s
            handoff-timeout = 15s
          }
          singleton.hand-over-retry-interval = 250ms
          singleton-proxy.singleton-identification-interval = 250ms
        }
        kms-cluster-dispatcher {
          type = ForkJoinDispatcher
          throughput = 50
          dedicated-thread-pool {
            thread-count = 2
            threadtype = background
          }
        }
        akka.remote.dot-netty.tcp.connection-timeout = 3s
        # The host decides the shutdown order (Kestrel drains first, then Akka leaves the cluster):
        # Akka must not start its own shutdown from the process-exit hook on SIGTERM.
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """);

    public static string Name(SplitBrainStrategy strategy) => strategy switch
    {
        SplitBrainStrategy.LeaseMajority => "lease-majority",
        SplitBrainStrategy.KeepOldest => "keep-oldest",
        _ => "keep-majority",
    };
}
