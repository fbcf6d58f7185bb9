using System.Globalization;

namespace KmsCluster.Node.Configuration;

/// <summary>How cluster bootstrap finds this node's peers (--discovery).</summary>
public enum DiscoveryMethod
{
    /// <summary>A fixed list of management endpoints (Akka.Discovery's config method).</summary>
    Config,

    /// <summary>Pods found through the Kubernetes API by label (Akka.Discovery.KubernetesApi).</summary>
    Kubernetes,
}

/// <summary>
/// Cluster bootstrap settings (--discovery and the flags after it, <see cref="DiscoveryFlags"/>): members run an
/// Akka.Management HTTP endpoint, find each other's through discovery, and either join the cluster one of them
/// reports or, when none exists, let the lowest-addressed of at least <see cref="RequiredContactPoints"/> form it.
/// Null in <see cref="NodeOptions.Discovery"/> with --discovery none (seeds, or a cluster of one).
/// </summary>
public sealed record ClusterDiscovery
{
    /// <summary>The environment variable the Kubernetes namespace is read from (the Downward API's usual name);
    /// without it, the namespace of the pod's service account.</summary>
    public const string PodNamespaceVariable = "POD_NAMESPACE";

    /// <summary>The name of the pod's container port that Akka.Management listens on (Kubernetes method).</summary>
    public const string ManagementPortName = "management";

    public required DiscoveryMethod Method { get; init; }

    /// <summary>config: the key of the endpoint list; kubernetes: the value of the pods' app label.</summary>
    public required string ServiceName { get; init; }

    /// <summary>config: every member's management endpoint (HOST:PORT); empty otherwise.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>Where this node's management endpoint binds and what it advertises.</summary>
    public required string ManagementHost { get; init; }

    public required int ManagementPort { get; init; }

    public required int RequiredContactPoints { get; init; }

    /// <summary>kubernetes: the namespace to list pods in; null: the service account's (Akka's default).</summary>
    public string? PodNamespace { get; init; }

    internal static ClusterDiscovery? Read(NodeSettings settings, string clusterHost, Func<string, string?> environment)
    {
        var methodText = settings.One(DiscoveryFlags.Discovery).Trim().ToLowerInvariant();
        var endpoints = settings.All(DiscoveryFlags.Endpoints)
            .SelectMany(value => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToArray();
        DiscoveryMethod method;
        switch (methodText)
        {
            case "none" or "":
                if (endpoints.Length > 0)
                {
                    throw new NodeOptionsException($"{DiscoveryFlags.Endpoints.Flag}: only used with {DiscoveryFlags.Discovery.Flag} config");
                }
                return null;
            case "config":
                method = DiscoveryMethod.Config;
                break;
            case "kubernetes":
                method = DiscoveryMethod.Kubernetes;
                break;
            case "dns":
                throw new NodeOptionsException(
                    $"{DiscoveryFlags.Discovery.Flag}: dns is not available: Akka.Discovery 1.5.73 names an akka-dns method but ships no implementation of it; use config (a list of management endpoints) or kubernetes");
            default:
                throw new NodeOptionsException($"{DiscoveryFlags.Discovery.Flag}: \"{methodText}\" is not one of none, config, kubernetes");
        }

        var service = settings.One(DiscoveryFlags.Service).Trim();
        // A HOCON key (config) and a Kubernetes label value: letters, digits, '-', '_', '.', starting alphanumeric.
        if (service.Length is 0 or > 63 || !char.IsAsciiLetterOrDigit(service[0]) ||
            !service.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new NodeOptionsException(
                $"{DiscoveryFlags.Service.Flag}: \"{service}\" is not a service name (1-63 letters, digits, '-', '_' or '.', starting with a letter or digit)");
        }
        var managementPort = ReadNumber(settings, DiscoveryFlags.ManagementPort, 1, 65535);
        var requiredContactPoints = ReadNumber(settings, DiscoveryFlags.RequiredContactPoints, 1, 1000);
        var managementHost = settings.One(DiscoveryFlags.ManagementHostname).Trim();
        var fromClusterHost = managementHost.Length == 0;
        if (fromClusterHost)
        {
            managementHost = clusterHost;
        }
        // Contact points travel as HOST:PORT and http://HOST:PORT/: an IPv6 literal would need brackets there.
        if (managementHost.Any(c => char.IsWhiteSpace(c) || c is '/' or '@' or ':' or '[' or ']'))
        {
            throw new NodeOptionsException(fromClusterHost
                ? $"{DiscoveryFlags.Discovery.Flag}: the management endpoint takes --cluster-host \"{managementHost}\", which is not a host name or IPv4 address; give {DiscoveryFlags.ManagementHostname.Flag}"
                : $"{DiscoveryFlags.ManagementHostname.Flag}: \"{managementHost}\" is not a host name or IPv4 address");
        }

        if (method == DiscoveryMethod.Config)
        {
            if (endpoints.Length == 0)
            {
                throw new NodeOptionsException(
                    $"{DiscoveryFlags.Discovery.Flag} config needs {DiscoveryFlags.Endpoints.Flag}: every member's management endpoint, HOST:PORT,...");
            }
            endpoints = endpoints.Select(text => NodeOptionsReader.ParseHostPort(text, DiscoveryFlags.Endpoints.Flag, "10.0.0.5:8558, kms-a.corp.example:8558").ToString())
                .Distinct().ToArray();
            if (requiredContactPoints > endpoints.Length)
            {
                throw new NodeOptionsException(
                    $"{DiscoveryFlags.RequiredContactPoints.Flag}: {requiredContactPoints} contact points can never be found among the {endpoints.Length} of {DiscoveryFlags.Endpoints.Flag}");
            }
        }
        else if (endpoints.Length > 0)
        {
            throw new NodeOptionsException($"{DiscoveryFlags.Endpoints.Flag}: only used with {DiscoveryFlags.Discovery.Flag} config");
        }

        var podNamespace = environment(PodNamespaceVariable)?.Trim();
        return new ClusterDiscovery
        {
            Method = method,
            ServiceName = service,
            Endpoints = endpoints,
            ManagementHost = managementHost,
            ManagementPort = managementPort,
            RequiredContactPoints = requiredContactPoints,
            PodNamespace = method == DiscoveryMethod.Kubernetes && !string.IsNullOrEmpty(podNamespace) ? podNamespace : null,
        };
    }

    private static int ReadNumber(NodeSettings settings, NodeFlag flag, int min, int max)
    {
        var text = settings.One(flag).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new NodeOptionsException($"{flag.Flag}: must be a whole number from {min} to {max}, got \"{text}\"");
        }
        return value;
    }
}
