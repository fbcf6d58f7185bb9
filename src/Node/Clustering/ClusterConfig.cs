using Akka.Configuration;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Akka.NET cluster settings tuned for a LAN service whose windows must move quickly when a node dies:
/// a node that misses heartbeats for about 2.5 s is unreachable, the split brain resolver decides after 2 s
/// of stability, and sharding reallocates a removed node's windows after a 1 s margin. The short margin is
/// safe because the database, not timing, keeps a window single-writer (see PostgresStore).
/// </summary>
public static class ClusterConfig
{
    public static Config Create(SplitBrainStrategy splitBrain) => ConfigurationFactory.ParseString($$"""
        akka.cluster {
          min-nr-of-members = 1
          # A downed node (partitioned away, or frozen and woken) leaves and its process stops.
          run-coordinated-shutdown-when-down = on
          shutdown-after-unsuccessful-join-seed-nodes = off
          seed-node-timeout = 3s
          retry-unsuccessful-join-after = 3s
          down-removal-margin = 1s
          downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
          split-brain-resolver {
            active-strategy = {{(splitBrain == SplitBrainStrategy.KeepOldest ? "keep-oldest" : "keep-majority")}}
            stable-after = 2s
            down-all-when-unstable = on
            keep-oldest.down-if-alone = on
          }
          failure-detector {
            heartbeat-interval = 500ms
            acceptable-heartbeat-pause = 2s
            expected-response-after = 500ms
            threshold = 8.0
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
        akka.remote.dot-netty.tcp.connection-timeout = 3s
        # The host decides the shutdown order (Kestrel drains first, then Akka leaves the cluster):
        # Akka must not start its own shutdown from the process-exit hook on SIGTERM.
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """);

    public static string Name(SplitBrainStrategy strategy) =>
        strategy == SplitBrainStrategy.KeepOldest ? "keep-oldest" : "keep-majority";
}
