using Akka.Actor;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Admin;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KmsCluster.Node.Admin;

/// <summary>
/// Whether this node serves activations: healthy once it is an Up member and the host activation ledger has
/// answered for every key (licensed or not); unhealthy while starting or stopping. The body of /healthz
/// (<see cref="HealthJson"/>) travels in the result's data, so status code and body come from one reading.
/// </summary>
public sealed class NodeHealthCheck(ActorSystem system, HostIdentity host, IHostApplicationLifetime lifetime,
    ClusterMembership membership, HostLicence licence, DnsPublishingStatus dns) : IHealthCheck
{
    public const string Name = "kms-node";
    public const string BodyKey = "body";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var member = Akka.Cluster.Cluster.Get(system).SelfMember;
        var status = lifetime.ApplicationStopping.IsCancellationRequested ? "stopping"
            : membership.IsServing && licence.IsSettled ? "ok"
            : "starting";
        var body = new HealthJson(status, host.Name, host.Id, member.Status.ToString(), licence.Status, licence.Problems)
        {
            // DNS publishing shows in the details but never makes the node unhealthy: activations go on without it.
            Dns = dns.Settings.Enabled ? dns.Snapshot() : null,
        };
        var data = new Dictionary<string, object> { [BodyKey] = body };
        return Task.FromResult(status == "ok"
            ? HealthCheckResult.Healthy(status, data)
            : HealthCheckResult.Unhealthy(status, data: data));
    }
}
