using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using Akka.Discovery.KubernetesApi;
using Akka.Event;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace KmsCluster.Node.Tests;

/// <summary>--discovery and its flags: what they parse to, what they refuse, and the Akka configuration the
/// bootstrap builds from them, read back the way Akka.Management and the discovery methods read it.</summary>
public sealed class ClusterBootstrapOptionsTests
{
    private const string Db = "Host=127.0.0.1;Database=kms;Username=kms";

    private static NodeOptions Read(params string[] args) => NodeOptionsTests.Read(null, null, args);

    private static string Refused(params string[] args) => Assert.Throws<NodeOptionsException>(() => Read(args)).Message;

    [Fact]
    public void Config_discovery_takes_the_endpoint_list_and_defaults_to_the_cluster_host_and_port_8558()
    {
        var options = Read("--db", Db, "--cluster-host", "10.0.0.7", "--discovery", "config",
            "--discovery-endpoints", "10.0.0.5:8558, 10.0.0.6:8558", "--discovery-endpoints", "10.0.0.7:8558");

        var discovery = Assert.IsType<ClusterDiscovery>(options.Discovery);
        Assert.Equal(DiscoveryMethod.Config, discovery.Method);
        Assert.Equal(["10.0.0.5:8558", "10.0.0.6:8558", "10.0.0.7:8558"], discovery.Endpoints);
        Assert.Equal(("10.0.0.7", 8558, 2, "kms-node"),
            (discovery.ManagementHost, discovery.ManagementPort, discovery.RequiredContactPoints, discovery.ServiceName));
        Assert.Empty(options.Seeds);
    }

    [Fact]
    public void Without_discovery_seeds_decide_as_before()
    {
        var options = Read("--db", Db, "--seed", "10.0.0.5:4053");
        Assert.Null(options.Discovery);
        Assert.Equal("10.0.0.5:4053", Assert.Single(options.Seeds).ToString());
    }

    [Fact]
    public void The_environment_sets_discovery_like_any_flag()
    {
        var options = NodeOptionsTests.Read(null, new Dictionary<string, string>
        {
            ["KMS_DB"] = Db, ["KMS_DISCOVERY"] = "kubernetes", ["KMS_DISCOVERY_SERVICE"] = "kms",
            ["KMS_MANAGEMENT_PORT"] = "9000", ["KMS_REQUIRED_CONTACT_POINTS"] = "3",
        });
        var discovery = Assert.IsType<ClusterDiscovery>(options.Discovery);
        Assert.Equal((DiscoveryMethod.Kubernetes, "kms", 9000, 3),
            (discovery.Method, discovery.ServiceName, discovery.ManagementPort, discovery.RequiredContactPoints));
    }

    [Theory]
    [InlineData("--discovery config --discovery-endpoints 10.0.0.5:8558 --required-contact-points 1 --seed 10.0.0.5:4053", "--seed and --discovery config exclude each other")]
    [InlineData("--discovery dns", "--discovery: dns is not available")]
    [InlineData("--discovery consul", "--discovery: \"consul\" is not one of none, config, kubernetes")]
    [InlineData("--discovery config", "--discovery config needs --discovery-endpoints")]
    [InlineData("--discovery config --discovery-endpoints 10.0.0.5", "--discovery-endpoints: \"10.0.0.5\" is not HOST:PORT")]
    [InlineData("--discovery config --discovery-endpoints 10.0.0.5:8558", "--required-contact-points: 2 contact points can never be found among the 1")]
    [InlineData("--discovery-endpoints 10.0.0.5:8558", "--discovery-endpoints: only used with --discovery config")]
    [InlineData("--discovery kubernetes --discovery-endpoints 10.0.0.5:8558", "--discovery-endpoints: only used with --discovery config")]
    [InlineData("--discovery kubernetes --management-port 0", "--management-port: must be a whole number from 1 to 65535")]
    [InlineData("--discovery kubernetes --required-contact-points 0", "--required-contact-points: must be a whole number from 1 to 1000")]
    [InlineData("--discovery kubernetes --discovery-service app=kms", "--discovery-service: \"app=kms\" is not a service name")]
    [InlineData("--discovery kubernetes --management-port 8688 --admin 127.0.0.1:8688", "--management-port: 8688 is the admin port too")]
    [InlineData("--discovery kubernetes --cluster-host ::1", "--discovery: the management endpoint takes --cluster-host \"::1\", which is not a host name or IPv4 address; give --management-hostname")]
    [InlineData("--discovery kubernetes --management-hostname [fd00::5]", "--management-hostname: \"[fd00::5]\" is not a host name or IPv4 address")]
    public void Wrong_discovery_settings_are_refused_with_the_flag_at_fault(string args, string message) =>
        Assert.StartsWith(message, Refused([.. args.Split(' '), "--db", Db]));

    [Fact]
    public void Discovery_without_the_shared_database_is_refused() =>
        Assert.StartsWith("--discovery: forming a cluster needs --db", Refused("--discovery", "kubernetes"));

    [Fact]
    public void Kubernetes_discovery_selects_pods_by_app_label_in_the_namespace_of_the_environment_and_probes_the_management_port()
    {
        var discovery = ClusterDiscovery.Read(Settings("--discovery", "kubernetes", "--discovery-service", "kms",
                "--cluster-host", "10.1.2.3", "--required-contact-points", "3"), "10.1.2.3",
            name => name == ClusterDiscovery.PodNamespaceVariable ? "licensing" : null)!;
        var config = BootstrapConfig(discovery);

        // As Akka.Discovery.KubernetesApi reads its section: label app=<service>, this namespace, pod IPs.
        Assert.Equal("kubernetes-api", config.GetString("akka.discovery.method"));
        var kubernetes = KubernetesDiscoverySettings.Create(config.GetConfig("akka.discovery.kubernetes-api"));
        Assert.Equal("app=kms", kubernetes.PodLabelSelector("kms"));
        Assert.Equal("licensing", kubernetes.PodNamespace);
        Assert.False(kubernetes.AllNamespaces);
        Assert.True(kubernetes.RawIp);
        Assert.Equal(typeof(KubernetesApiServiceDiscovery).AssemblyQualifiedName,
            config.GetString("akka.discovery.kubernetes-api.class"));

        // As Akka.Management reads the bootstrap: service kms through akka.discovery, port named management.
        var bootstrap = ClusterBootstrapSettings.Create(config, NoLogger.Instance);
        Assert.Equal(("kms", "management", "akka.discovery", 3, true),
            (bootstrap.ContactPointDiscovery.ServiceName, bootstrap.ContactPointDiscovery.PortName,
             bootstrap.ContactPointDiscovery.DiscoveryMethod, bootstrap.ContactPointDiscovery.RequiredContactPointsNr,
             bootstrap.ContactPointDiscovery.ContactWithAllContactPoints));
        Assert.True(bootstrap.NewClusterEnabled);
        Assert.Equal(("10.1.2.3", 8558), (config.GetString("akka.management.http.hostname"), config.GetInt("akka.management.http.port")));
    }

    [Fact]
    public void Without_the_namespace_variable_the_service_accounts_namespace_is_used()
    {
        var discovery = ClusterDiscovery.Read(Settings("--discovery", "kubernetes"), "10.1.2.3", _ => null)!;
        var kubernetes = KubernetesDiscoverySettings.Create(BootstrapConfig(discovery).GetConfig("akka.discovery.kubernetes-api"));
        Assert.Null(kubernetes.PodNamespace);
        Assert.Equal("/var/run/secrets/kubernetes.io/serviceaccount/namespace", kubernetes.PodNamespacePath);
    }

    [Fact]
    public async Task Config_discovery_resolves_the_endpoint_list_through_Akka_Discovery()
    {
        var discovery = ClusterDiscovery.Read(Settings("--discovery", "config", "--discovery-service", "kms",
            "--discovery-endpoints", "127.0.0.1:8601,127.0.0.1:8602,kms-c.corp.example:8603"), "127.0.0.1", _ => null)!;
        var config = BootstrapConfig(discovery);
        Assert.False(ClusterBootstrapSettings.Create(config, NoLogger.Instance).ContactPoint.FilterOnFallbackPort);

        using var system = ActorSystem.Create("discovery-test", config.WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING")));
        var resolved = await Discovery.Get(system).Default.Lookup(new Lookup("kms"), TimeSpan.FromSeconds(5));
        Assert.Equal(["127.0.0.1:8601", "127.0.0.1:8602", "kms-c.corp.example:8603"],
            resolved.Addresses.Select(target => $"{target.Host}:{target.Port}"));
        await system.Terminate();
    }

    private static NodeSettings Settings(params string[] args)
    {
        var (root, options) = NodeCommandLine.Create();
        return NodeConfiguration.Load(null, new Dictionary<string, string>(), root.Parse(args), options);
    }

    /// <summary>The configuration <see cref="ClusterBootstrapHosting.AddClusterBootstrap"/> gives the actor system.</summary>
    private static Config BootstrapConfig(ClusterDiscovery discovery)
    {
        var akka = new AkkaConfigurationBuilder(new ServiceCollection(), "kms");
        akka.AddClusterBootstrap(discovery);
        return akka.Configuration.Value;
    }
}
