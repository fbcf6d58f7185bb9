using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Cluster bootstrap (--discovery): Akka.Management serves this node's contact point over HTTP on the management
/// endpoint, discovery lists the peers' endpoints, and the bootstrap probes them. A node joins the cluster any peer
/// reports; when none reports one, the node with the lowest address among at least --required-contact-points peers,
/// all of which answered, forms it and the others join it: one cluster, however many start at once.
/// </summary>
public static class ClusterBootstrapHosting
{
    /// <summary>The discovery path of Akka.Discovery.KubernetesApi's method (its reference.conf).</summary>
    public const string KubernetesMethod = "kubernetes-api";

    /// <summary>The label the Kubernetes method selects pods by; {0} is --discovery-service.</summary>
    public const string KubernetesLabelSelector = "app={0}";

    public static AkkaConfigurationBuilder AddClusterBootstrap(this AkkaConfigurationBuilder akka, ClusterDiscovery discovery)
    {
        // Plain HTTP, and on the cluster's address rather than the admin one: it only tells peers this node's
        // cluster address and the members it knows, read-only; joining still goes through remoting (and its TLS).
        // BootstrapEndpoint binds it (not AkkaManagement.Start, see there); the settings say where, for the record.
        akka.WithAkkaManagement(new AkkaManagementOptions
        {
            HostName = discovery.ManagementHost,
            Port = discovery.ManagementPort,
            RouteProvidersReadOnly = true,
        }, autoStart: false);
        switch (discovery.Method)
        {
            case DiscoveryMethod.Config:
                akka.WithConfigDiscovery(new ConfigServiceDiscoveryOptions
                {
                    Services = [new Service { Name = discovery.ServiceName, Endpoints = discovery.Endpoints.ToArray() }],
                });
                break;
            case DiscoveryMethod.Kubernetes:
                akka.WithKubernetesDiscovery(new KubernetesDiscoveryOptions
                {
                    PodLabelSelector = KubernetesLabelSelector,
                    PodNamespace = discovery.PodNamespace,
                    // Pod IPs, not pod DNS names: the node's --cluster-host and --management-hostname are its IP.
                    RawIp = true,
                });
                break;
        }
        akka.WithClusterBootstrap(options =>
        {
            options.ContactPointDiscovery.ServiceName = discovery.ServiceName;
            options.ContactPointDiscovery.RequiredContactPointsNr = discovery.RequiredContactPoints;
            options.ContactPointDiscovery.ContactWithAllContactPoints = true;
            if (discovery.Method == DiscoveryMethod.Kubernetes)
            {
                // A pod lists several ports; the bootstrap probes the one of this name.
                options.ContactPointDiscovery.PortName = ClusterDiscovery.ManagementPortName;
            }
            else
            {
                // Members on one host have management ports of their own: keep every endpoint of the list, not only
                // those on this node's port (Akka.Management's default filter when no port name is given).
                options.ContactPoint.FilterOnFallbackPort = false;
            }
        }, autoStart: false);
        akka.AddStartup(async (system, _) => await BootstrapEndpoint.StartAsync(system, discovery));
        return akka;
    }
}
