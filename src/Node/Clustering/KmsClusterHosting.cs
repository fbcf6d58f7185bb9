using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>Remoting, clustering and the split brain resolver of a node (see <see cref="ClusterConfig"/> for
/// why the timings are what they are), and the services that follow this node's membership.</summary>
public static class KmsClusterHosting
{
    /// <param name="clusterName">The actor system name, which only nodes on the same journal share.</param>
    /// <param name="leaseConnectionString">The database of the lease-majority lease; null without --db.</param>
    public static AkkaConfigurationBuilder AddKmsCluster(this AkkaConfigurationBuilder akka, NodeOptions options,
        string clusterName, string? leaseConnectionString)
    {
        akka.AddHocon(ClusterConfig.Tuning(options.SplitBrain), HoconAddMode.Prepend);
        akka.WithRemoting(new RemoteOptions
        {
            HostName = options.ClusterHost,
            PublicHostName = options.ClusterHost,
            Port = options.ClusterPort,
        }.WithTls(options.ClusterTls));
        var splitBrain = SplitBrainResolver(options.SplitBrain, leaseConnectionString);
        akka.WithClustering(new ClusterOptions
        {
            SeedNodes = options.Seeds.Select(seed => $"{ClusterTls.Protocol(options.ClusterTls)}://{clusterName}@{seed}").ToArray(),
            Roles = ["kms"],
            MinimumNumberOfMembers = 1,
            SplitBrainResolver = splitBrain,
            // Heartbeats every 500 ms; a node silent for about 2 s is unreachable (interval + 1 s pause + 5 x the
            // 100 ms minimum deviation at phi 8). Healthy nodes on the 2-core test machine went silent for at most
            // 1.4 s (while a node started beside a loaded cluster), and unreachable alone downs nobody: the resolver
            // waits 1.5 s more.
            FailureDetector = new PhiAccrualFailureDetectorOptions
            {
                HeartbeatInterval = TimeSpan.FromMilliseconds(500),
                AcceptableHeartbeatPause = TimeSpan.FromMilliseconds(1000),
                ExpectedResponseAfter = TimeSpan.FromMilliseconds(500),
                Threshold = 8.0,
            },
        });
        if (splitBrain is LeaseMajorityOption { LeaseImplementation: { } lease })
        {
            lease.Apply(akka);
        }
        // The resolver decides within 0.1 s of stable-after instead of within 1 s (see ResolverTicker).
        akka.AddStartup((system, _) =>
        {
            if (ResolverTicker.Tick is { } tick)
            {
                system.ActorOf(Props.Create(() => new ResolverTicker(tick)), "resolver-ticker");
            }
            else
            {
                system.Log.Warning("Akka.Cluster has no SplitBrainResolverBase+Tick: the split brain resolver decides on its own 1 s tick");
            }
        });
        akka.WithActorSystemLivenessCheck().WithAkkaClusterReadinessCheck();
        if (options.Discovery is { } discovery)
        {
            akka.AddClusterBootstrap(discovery);
        }
        else if (options.Seeds.Count == 0)
        {
            // Without seeds or discovery a node is a cluster of its own: it joins itself.
            akka.AddStartup((system, _) =>
            {
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        }
        return akka;
    }

    /// <summary>Whether this node serves (<see cref="ClusterMembership"/>), started once the actor system runs.</summary>
    public static IServiceCollection AddClusterMembership(this IServiceCollection services)
    {
        services.AddSingleton<ClusterMembership>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterMembership>());
        return services;
    }

    private static SplitBrainResolverOption SplitBrainResolver(SplitBrainStrategy strategy, string? leaseConnectionString) =>
        strategy switch
        {
            SplitBrainStrategy.LeaseMajority => new LeaseMajorityOption
            {
                LeaseImplementation = new PostgresLeaseOption(leaseConnectionString
                    ?? throw new InvalidOperationException("lease-majority needs the cluster's database")),
            },
            SplitBrainStrategy.KeepOldest => new KeepOldestOption { DownIfAlone = true },
            _ => new KeepMajorityOption(),
        };
}
