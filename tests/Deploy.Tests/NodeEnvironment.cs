using System.Text.RegularExpressions;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// Checks a deployment's KMS_* variables for kms-node the way the node reads them: each names a real flag, and
/// together with the image's defaults (the Containerfile's ENV) they make valid options (NodeOptionsReader, the
/// node's own reader: addresses, seeds, connection string, licence files).
/// </summary>
public static partial class NodeEnvironment
{
    public static IReadOnlySet<string> KnownVariables { get; } =
        NodeFlags.All.Select(f => f.EnvironmentVariable).ToHashSet(StringComparer.Ordinal);

    /// <summary>The image's KMS_* defaults: the ENV instruction of deploy/container/Containerfile.</summary>
    public static IReadOnlyDictionary<string, string> ImageDefaults(string containerfile = "deploy/container/Containerfile")
    {
        var text = File.ReadAllText(Repository.PathOf(containerfile)).Replace("\\\n", " ");
        var env = text.Split('\n').Single(line => line.StartsWith("ENV ", StringComparison.Ordinal));
        return EnvPair().Matches(env).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
    }

    /// <summary>The options kms-node makes of the image's defaults overlaid with <paramref name="environment"/>
    /// (paths inside the container already mapped to files here by the caller).</summary>
    public static NodeOptions Read(IReadOnlyDictionary<string, string> environment)
    {
        var unknown = environment.Keys.Where(k => k.StartsWith("KMS_", StringComparison.Ordinal) && !KnownVariables.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, $"not a kms-node flag's variable: {string.Join(", ", unknown)}");
        var merged = ImageDefaults().Where(p => p.Key.StartsWith("KMS_", StringComparison.Ordinal))
            .Concat(environment).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var settings = NodeConfiguration.Load(null, merged, null, new Dictionary<NodeFlag, System.CommandLine.Option>());
        return NodeOptionsReader.Read(settings);
    }

    [GeneratedRegex(@"\b(KMS_[A-Z_]+|[A-Z_]+)=(\S*)")]
    private static partial Regex EnvPair();
}
