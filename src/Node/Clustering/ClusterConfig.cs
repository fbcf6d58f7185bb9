using Akka.Configuration;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Akka.NET cluster settings tuned for a LAN service whose windows must move quickly when a node dies:
/// heartbeats every 500 ms, a node silent for about 2 s is unreachable, the split brain resolver decides
/// after 1.5 s of stability, the leader acts every 500 ms, and sharding reallocates a removed node's windows
/// after a 0.5 s margin. The short margin is safe because the database, not timing, keeps a window
/// single-writer (see PostgresStore). Cluster actors run on two dedicated threads, so a busy thread pool
/// (the activation hot path) cannot delay heartbeats into a false failure.
/// </summary>
public static class ClusterConfig
{
    /// <summary>
    /// The soonest the others may down a node that went silent: an unreachable verdict (about the acceptable
    /// heartbeat pause, 1.5 s) plus the resolver's stable-after (1.5 s), less a safety margin. A node frozen this
    /// long presumes itself downed (see <see cref="FreezeWatchdog"/>).
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
          gossip-interval = 500ms
          leader-actions-interval = 500ms
          unreachable-nodes-reaper-interval = 250ms
          down-removal-margin = 500ms
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
