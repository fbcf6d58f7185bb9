using Akka.Actor;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Whether this node may serve activations: only while it is an Up member of its cluster. A node that is
/// removed without being asked to stop (downed by the split brain resolver, or woken after a freeze to find
/// itself downed) stops serving at once and shuts the process down with exit code 1, so a supervisor
/// (systemd, Kubernetes) starts it again as a fresh member.
/// </summary>
public sealed partial class ClusterMembership(ActorSystem system, IHostApplicationLifetime lifetime,
    ILogger<ClusterMembership> log)
{
    private volatile bool _serving;

    public bool IsServing => _serving;

    public void Start()
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
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {Address} is up and serving")]
    private partial void LogUp(string address);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Member {Address} was removed from the cluster without being asked to stop (downed); it stops serving and exits")]
    private partial void LogRemoved(string address);
}
