using System.Text.Json.Nodes;
using KmsCluster.Testing;
using Npgsql;

namespace KmsCluster.Deploy.Tests;

/// <summary>deploy/compose/compose.yaml: PostgreSQL and three nodes of the image that make one cluster, each
/// with its named volume and published ports, every setting a real flag that the node accepts.</summary>
public sealed class ComposeFileTests
{
    private static readonly string ComposeDirectory = Repository.PathOf("deploy/compose");
    private readonly JsonNode _compose = Yaml.ReadOne(Path.Combine(ComposeDirectory, "compose.yaml"))!;

    private JsonObject Services => _compose["services"]!.AsObject();

    private IReadOnlyList<string> NodeServices => Services.Where(s => s.Key != "postgres").Select(s => s.Key).ToList();

    [Fact]
    public void It_runs_PostgreSQL_and_three_nodes_of_the_image_built_from_the_Containerfile()
    {
        Assert.Equal(["node1", "node2", "node3"], NodeServices);
        Assert.StartsWith("docker.io/library/postgres:", (string?)Services["postgres"]!["image"]);
        var build = Services["node1"]!["build"]!;
        Assert.Equal(Repository.Root, Path.GetFullPath(Path.Combine(ComposeDirectory, (string)build["context"]!)));
        Assert.True(File.Exists(Path.Combine(Repository.Root, (string)build["dockerfile"]!)));
        var image = (string?)Services["node1"]!["image"];
        Assert.All(NodeServices, name =>
        {
            var node = Services[name]!;
            Assert.Equal(image, (string?)node["image"]);
            Assert.Equal("service_healthy", (string?)node["depends_on"]!["postgres"]!["condition"]);
        });
        Assert.NotNull(Services["postgres"]!["healthcheck"]);
    }

    [Fact]
    public void Each_node_keeps_its_data_in_a_named_volume_and_publishes_activation_and_admin_ports()
    {
        var declared = _compose["volumes"]!.AsObject().Select(v => v.Key).ToHashSet();
        var hostPorts = new List<string>();
        foreach (var name in NodeServices)
        {
            var volumes = Strings(Services[name]!["volumes"]);
            // The image's VOLUME holds the node's data (KMS_DATA): a volume of its own per node.
            var data = Assert.Single(volumes, v => v.EndsWith(":/var/lib/kms", StringComparison.Ordinal));
            Assert.Equal($"{name}-data", data.Split(':')[0]);
            Assert.Contains($"{name}-data", declared);
            Assert.Equal("/var/lib/kms", NodeEnvironment.ImageDefaults()["KMS_DATA"]);
            var ports = Strings(Services[name]!["ports"]).Select(p => p.Split(':')).ToList();
            Assert.Equal(["1688", "8688"], ports.Select(p => p[1]).Order());
            hostPorts.AddRange(ports.Select(p => p[0]));
        }
        Assert.Equal(hostPorts.Count, hostPorts.Distinct().Count());
        Assert.Contains("postgres-data", declared);
        Assert.Contains("postgres-data:/var/lib/postgresql/data", Strings(Services["postgres"]!["volumes"]));
    }

    [Fact]
    public void Every_node_setting_is_a_real_flag_the_node_accepts_and_the_nodes_find_each_other_and_the_database()
    {
        var postgres = Environment("postgres");
        var clusterPort = int.Parse(NodeEnvironment.ImageDefaults()["KMS_CLUSTER_PORT"]);
        foreach (var name in NodeServices)
        {
            var options = NodeEnvironment.Read(HostPaths(name, Environment(name)));
            Assert.Equal(name, options.HostName);
            // Peers reach it at its service name; the seeds are services of this file at the image's cluster port.
            Assert.Equal(name, options.ClusterHost);
            Assert.Equal(clusterPort, options.ClusterPort);
            // Every node a seed: a restarted first seed then finds a survivor instead of forming a second cluster.
            Assert.Equal(["node1", "node2", "node3"], options.Seeds.Select(s => s.Host));
            Assert.All(options.Seeds, seed => Assert.Equal(clusterPort, seed.Port));
            // The shared journal: the postgres service's database, user and password.
            var db = new NpgsqlConnectionStringBuilder(options.Database);
            Assert.Equal(("postgres", postgres["POSTGRES_DB"], postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]),
                (db.Host, db.Database, db.Username, db.Password));
            Assert.Equal(2, options.Licensing.HostKeys.Count);
            Assert.Equal([1688], options.Listen.Select(l => l.Port));
            Assert.Equal(8688, options.Admin.Port);
        }
    }

    /// <summary>A service's environment, with ${VAR:-default} as compose substitutes it when VAR is unset.</summary>
    private Dictionary<string, string> Environment(string service) =>
        Services[service]!["environment"]!.AsObject().ToDictionary(p => p.Key,
            p => System.Text.RegularExpressions.Regex.Replace(p.Value!.ToString(), @"\$\{[A-Z_]+:-([^}]*)\}", "$1"));

    /// <summary>Paths inside the container mapped to the files its bind mounts bring in from here.</summary>
    private Dictionary<string, string> HostPaths(string service, Dictionary<string, string> environment)
    {
        var mounts = Strings(Services[service]!["volumes"]).Select(v => v.Split(':'))
            .Where(v => v[0].StartsWith('.')).ToDictionary(v => v[1], v => Path.GetFullPath(Path.Combine(ComposeDirectory, v[0])));
        return environment.ToDictionary(p => p.Key, p => string.Join(',', p.Value.Split(',').Select(value =>
            mounts.Where(m => value.StartsWith(m.Key, StringComparison.Ordinal))
                .Select(m => m.Value + value[m.Key.Length..]).FirstOrDefault() ?? value)));
    }

    private static string[] Strings(JsonNode? node) => node?.AsArray().Select(n => (string)n!).ToArray() ?? [];
}
