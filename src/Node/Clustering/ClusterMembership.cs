using Akka.Actor;
using KmsCluster.Actors.Entities;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Whether this node may serve activations: only while it is an Up member of its cluster. A node that is
/// removed without being asked to stop (downed by the split brain resolver, or woken after a freeze to find
/// itself downed) stops serving at once and shuts the process down with exit code 1, so a supervisor
/// (systemd, Kubernetes) starts it again as a fresh member.
/// </summary>
public sealed partial class ClusterMembership(ActorSystem system, IHostApplicationLifetime lifetime,
    IWriteFence fence, ILogger<ClusterMembership> log) : IHostedService
{
    private volatile bool _serving;
    private volatile bool _downed;

    public bool IsServing => _serving && fence.MayWrite;

    /// <summary>The node was removed without being asked to stop, or froze for longer than the cluster waits
    /// before downing a silent node; the process should exit with code 1.</summary>
    public bool WasDowned => _downed || fence is FreezeWatchdog { Fenced: true };

    /// <summary>Watches this member's status; runs once the actor system has started.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.RegisterOnMemberUp(() =>
        {
            _serving = true;
            LogUp(cluster.SelfAddress.ToString());
        });
        cluster.RegisterOnMemberRemoved(() =>
        {
            _serving = false;
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return;
            }
            LogRemoved(cluster.SelfAddress.ToString());
            _downed = true;
            lifetime.StopApplication();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {Address} is up and serving")]
    private partial void LogUp(string address);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Member {Address} was removed from the cluster without being asked to stop (downed); it stops serving and exits")]
    private partial void LogRemoved(string address);
}
