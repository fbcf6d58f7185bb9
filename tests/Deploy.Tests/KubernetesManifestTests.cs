using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using KmsCluster.Node.Admin;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// deploy/kubernetes: every manifest is valid against a checked-in subset of the Kubernetes schema (no cluster
/// here to apply them to), and what refers to something refers to something real: the node's flags and
/// probe paths, the image's ports and user, the secrets' keys, the services' and PDB's selectors.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Directory = Repository.PathOf("deploy/kubernetes");
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromFile(Path.Combine(AppContext.BaseDirectory, "KubernetesSchemas", "kubernetes-subset.schema.json")));

    /// <summary>The secrets are created apart (so that applying the kustomization again keeps them); this file
    /// shows them, with placeholders.</summary>
    private const string SecretsFile = "secrets.yaml";

    private readonly JsonNode _kustomization = Yaml.ReadOne(Path.Combine(Directory, "kustomization.yaml"))!;
    private readonly List<JsonNode> _objects;

    public KubernetesManifestTests()
    {
        _objects = Strings(_kustomization["resources"]).Append(SecretsFile)
            .SelectMany(file => Yaml.ReadAll(Path.Combine(Directory, file))).Select(d => d!).ToList();
    }

    private JsonNode One(string kind, string? name = null) =>
        Assert.Single(_objects, o => (string?)o["kind"] == kind && (name is null || (string?)o["metadata"]!["name"] == name));

    private JsonNode Container => Assert.Single(One("StatefulSet")["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;

    [Fact]
    public void The_kustomization_lists_every_manifest_but_the_secrets_and_each_is_valid_against_the_schema_subset()
    {
        var files = System.IO.Directory.GetFiles(Directory, "*.yaml").Select(Path.GetFileName)
            .Where(f => f is not ("kustomization.yaml" or SecretsFile)).Order();
        Assert.Equal(files, Strings(_kustomization["resources"]).Order());
        AssertValid(_kustomization);
        Assert.All(_objects, AssertValid);
        Assert.Equal(["Namespace", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount", "StatefulSet"],
            _objects.Select(o => (string)o["kind"]!).Distinct().Order());
    }

    [Fact]
    public void The_schema_subset_refuses_a_misspelt_field_a_wrong_type_and_a_missing_one()
    {
        var typo = One("StatefulSet").DeepClone();
        var container = typo["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();
        container["readinesProbe"] = container["readinessProbe"]!.DeepClone();
        Assert.False(Evaluate(typo).IsValid);

        var port = One("Service", "kmscluster").DeepClone();
        port["spec"]!["ports"]![0]!["port"] = "1688";
        Assert.False(Evaluate(port).IsValid);

        var selector = One("PodDisruptionBudget").DeepClone();
        selector["spec"]!.AsObject().Remove("selector");
        Assert.False(Evaluate(selector).IsValid);
    }

    [Fact]
    public void Every_node_setting_is_a_real_flag_and_together_they_are_options_the_node_accepts()
    {
        var env = Container["env"]!.AsArray().Select(e => e!).ToList();
        Assert.All(env.Select(e => (string)e["name"]!).Where(n => n.StartsWith("KMS_", StringComparison.Ordinal)),
            name => Assert.Contains(name, NodeEnvironment.KnownVariables));

        // The bootstrap lists pods in the pod's own namespace (the Downward API's metadata.namespace).
        Assert.Contains(env, e => (string?)e["name"] == ClusterDiscovery.PodNamespaceVariable &&
            (string?)e["valueFrom"]?["fieldRef"]?["fieldPath"] == "metadata.namespace");

        // All through the node's own reader: secrets and downward-API fields filled in as Kubernetes would,
        // the licence secret's mount path mapped to the demo licence's files.
        var licenceMount = (string)Mount("licence")["mountPath"]!;
        var licence = One("Secret", "kmscluster-licence")["stringData"]!.AsObject().Select(p => p.Key).ToHashSet();
        var demo = new Dictionary<string, string>
        {
            ["authority.pub"] = Repository.PathOf("deploy/demo-licence/authority.pub"),
            ["host-key.json"] = Repository.PathOf("deploy/demo-licence/windows-server-2025.hostkey.json"),
        };
        Assert.Equal(demo.Keys.Order(), licence.Order());
        var resolved = new Dictionary<string, string>();
        foreach (var e in env)
        {
            var name = (string)e["name"]!;
            var value = e["value"] is { } plain ? (string)plain! : ValueFrom(e["valueFrom"]!);
            value = value.Replace("$(POD_IP)", resolved.GetValueOrDefault("POD_IP") ?? "unset");
            if (value.StartsWith(licenceMount + "/", StringComparison.Ordinal))
            {
                var file = value[(licenceMount.Length + 1)..];
                Assert.Contains(file, licence);
                value = demo[file];
            }
            resolved[name] = value;
        }
        var options = NodeEnvironment.Read(resolved.Where(p => p.Key.StartsWith("KMS_", StringComparison.Ordinal)).ToDictionary());
        Assert.Equal("10.1.2.3", options.ClusterHost);
        Assert.Equal(PortNamed("remoting"), options.ClusterPort);
        Assert.Equal("kmscluster-0", options.HostName);
        Assert.Equal([PortNamed("kms")], options.Listen.Select(l => l.Port));
        Assert.Equal(PortNamed("admin"), options.Admin.Port);
        Assert.Equal((string)Mount("data")["mountPath"]!, options.DataDirectory);
        Assert.NotNull(options.Database);
        Assert.Single(options.Licensing.HostKeys);
        Assert.Empty(options.Seeds);

        // Discovery over the Kubernetes API, for the pods this StatefulSet labels, on their port named management,
        // forming the cluster once every replica is found.
        var discovery = options.Discovery!;
        Assert.Equal(DiscoveryMethod.Kubernetes, discovery.Method);
        Assert.Equal((string?)One("StatefulSet")["spec"]!["template"]!["metadata"]!["labels"]!["app"], discovery.ServiceName);
        Assert.Equal(PortNamed(ClusterDiscovery.ManagementPortName), discovery.ManagementPort);
        Assert.Equal("10.1.2.3", discovery.ManagementHost);
        Assert.Equal((int)One("StatefulSet")["spec"]!["replicas"]!, discovery.RequiredContactPoints);
    }

    [Fact]
    public void Probes_ask_the_nodes_open_health_paths_on_the_admin_port_and_services_reach_named_ports()
    {
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            var get = Container[probe]!["httpGet"]!;
            Assert.Contains((string)get["path"]!, AdminAuthentication.OpenPaths);
            Assert.Equal("admin", (string?)get["port"]);
        }
        Assert.Equal("/healthz/ready", (string?)Container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/healthz/live", (string?)Container["livenessProbe"]!["httpGet"]!["path"]);

        // The image's ports: activation and admin as its defaults say, cluster and management as exposed.
        var defaults = NodeEnvironment.ImageDefaults();
        Assert.Equal(int.Parse(defaults["KMS_LISTEN"].Split(':')[^1]), PortNamed("kms"));
        Assert.Equal(int.Parse(defaults["KMS_ADMIN"].Split(':')[^1]), PortNamed("admin"));
        Assert.Equal(int.Parse(defaults["KMS_CLUSTER_PORT"]), PortNamed("remoting"));

        var headless = One("Service", "kmscluster-cluster")["spec"]!;
        Assert.Equal("None", (string?)headless["clusterIP"]);
        Assert.True((bool)headless["publishNotReadyAddresses"]!);
        Assert.Equal("kmscluster-cluster", (string?)One("StatefulSet")["spec"]!["serviceName"]);
        var kms = One("Service", "kmscluster")["spec"]!;
        Assert.Equal(1688, (int)Assert.Single(kms["ports"]!.AsArray())!["port"]!);
        foreach (var port in headless["ports"]!.AsArray().Concat(kms["ports"]!.AsArray()))
        {
            Assert.Equal((int)port!["port"]!, PortNamed((string)port["targetPort"]!));
        }
    }

    [Fact]
    public void Selectors_secrets_volumes_RBAC_and_the_security_context_fit_together()
    {
        var statefulSet = One("StatefulSet")["spec"]!;
        var podLabels = statefulSet["template"]!["metadata"]!["labels"]!.AsObject();
        var selectors = new[]
        {
            statefulSet["selector"]!["matchLabels"]!, One("PodDisruptionBudget")["spec"]!["selector"]!["matchLabels"]!,
            One("Service", "kmscluster")["spec"]!["selector"]!, One("Service", "kmscluster-cluster")["spec"]!["selector"]!,
        };
        Assert.All(selectors, selector => Assert.All(selector.AsObject(), label => Assert.Equal((string?)label.Value, (string?)podLabels[label.Key])));
        // The budget leaves a majority of the replicas.
        Assert.True((int)One("PodDisruptionBudget")["spec"]!["minAvailable"]! > (int)statefulSet["replicas"]! / 2);

        // Secrets used exist with the keys used.
        foreach (var reference in Container["env"]!.AsArray().Select(e => e!["valueFrom"]?["secretKeyRef"]).OfType<JsonNode>())
        {
            Assert.NotNull(One("Secret", (string)reference["name"]!)["stringData"]![(string)reference["key"]!]);
        }
        var volumes = statefulSet["template"]!["spec"]!["volumes"]!.AsArray().Select(v => (string)v!["name"]!)
            .Concat(statefulSet["volumeClaimTemplates"]!.AsArray().Select(v => (string)v!["metadata"]!["name"]!)).ToList();
        Assert.All(Container["volumeMounts"]!.AsArray(), mount => Assert.Contains((string)mount!["name"]!, volumes));
        Assert.All(statefulSet["template"]!["spec"]!["volumes"]!.AsArray().Select(v => v!["secret"]?["secretName"]).OfType<JsonNode>(),
            secret => One("Secret", (string)secret!));
        Assert.NotNull(Container["resources"]!["requests"]!["cpu"]);
        Assert.NotNull(Container["resources"]!["requests"]!["memory"]);

        // Pod discovery: the pods' service account may get, list and watch pods, in the namespace it lives in.
        var account = (string)statefulSet["template"]!["spec"]!["serviceAccountName"]!;
        One("ServiceAccount", account);
        var binding = One("RoleBinding");
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal((account, (string?)_kustomization["namespace"]), ((string)subject["name"]!, (string?)subject["namespace"]));
        var rule = Assert.Single(One("Role", (string)binding["roleRef"]!["name"]!)["rules"]!.AsArray())!;
        Assert.Equal(["pods"], Strings(rule["resources"]));
        Assert.Equal(["get", "list", "watch"], Strings(rule["verbs"]).Order());
        Assert.Equal((string?)_kustomization["namespace"], (string?)One("Namespace")["metadata"]!["name"]);

        // The image's user (Containerfile: useradd --uid), not root.
        var uid = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Repository.PathOf("deploy/container/Containerfile")), @"useradd --system --uid (\d+)").Groups[1].Value;
        var security = statefulSet["template"]!["spec"]!["securityContext"]!;
        Assert.Equal((int.Parse(uid), true), ((int)security["runAsUser"]!, (bool)security["runAsNonRoot"]!));
        Assert.Equal(int.Parse(uid), (int)security["fsGroup"]!);
    }

    private int PortNamed(string name) =>
        (int)Assert.Single(Container["ports"]!.AsArray(), p => (string?)p!["name"] == name)!["containerPort"]!;

    private JsonNode Mount(string volume) => Assert.Single(Container["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == volume)!;

    /// <summary>What Kubernetes puts in a variable from a secret (this file's placeholder) or the pod's fields.</summary>
    private string ValueFrom(JsonNode valueFrom)
    {
        if (valueFrom["secretKeyRef"] is { } secret)
        {
            return (string)One("Secret", (string)secret["name"]!)["stringData"]![(string)secret["key"]!]!;
        }
        return (string?)valueFrom["fieldRef"]!["fieldPath"] switch
        {
            "status.podIP" => "10.1.2.3",
            "metadata.name" => "kmscluster-0",
            "metadata.namespace" => (string)_kustomization["namespace"]!,
            var other => throw new InvalidOperationException($"no sample value for field {other}"),
        };
    }

    private static EvaluationResults Evaluate(JsonNode node) =>
        Schema.Value.Evaluate(JsonSerializer.SerializeToElement(node), new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static void AssertValid(JsonNode node)
    {
        var result = Evaluate(node);
        Assert.True(result.IsValid, $"{node["kind"]} {node["metadata"]?["name"]}:\n" + string.Join("\n",
            (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    private static string[] Strings(JsonNode? node) => node?.AsArray().Select(n => (string)n!).ToArray() ?? [];
}
