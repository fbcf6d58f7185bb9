namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags of cluster bootstrap (read by <see cref="ClusterDiscovery"/>); part of <see cref="NodeFlags.All"/>.</summary>
public static class DiscoveryFlags
{
    public static readonly NodeFlag Discovery = new("discovery", "METHOD", "none",
        "how members find each other: none (the --seed list), config (--discovery-endpoints), kubernetes (pods labelled app=SERVICE, through the Kubernetes API); with a method, Akka.Management's cluster bootstrap forms or joins the cluster and --seed is not used; dns is not available (Akka.Discovery 1.5.73 has no DNS method)");
    public static readonly NodeFlag Service = new("discovery-service", "NAME", "kms-node",
        "the service looked up: config: the name of the endpoint list; kubernetes: the value of the pods' app label");
    public static readonly NodeFlag Endpoints = new("discovery-endpoints", "HOST:PORT,...", "",
        "config: every member's management endpoint (--management-port), this node's included, the same list on each node; commas or repeats", Repeatable: true);
    public static readonly NodeFlag ManagementPort = new("management-port", "PORT", "8558",
        "Akka.Management HTTP port the bootstrap probes its peers on (only with --discovery); kubernetes: the container port named management");
    public static readonly NodeFlag ManagementHostname = new("management-hostname", "HOST", "",
        "address of the management endpoint, advertised and bound (default: --cluster-host)");
    public static readonly NodeFlag RequiredContactPoints = new("required-contact-points", "N", "2",
        "how many members the bootstrap must have found and heard from before the lowest-addressed of them forms a new cluster (joining an existing one needs only one)");

    public static readonly IReadOnlyList<NodeFlag> All =
    [
        Discovery, Service, Endpoints, ManagementPort, ManagementHostname, RequiredContactPoints,
    ];
}
