using Microsoft.Extensions.Configuration;

namespace KmsCluster.Node.Configuration;

/// <summary>The raw text of every <see cref="NodeFlag"/> as the operator set it (appsettings.json, KMS_*, flags),
/// before parsing; a flag nobody set has its default.</summary>
public sealed class NodeSettings(IReadOnlyDictionary<string, IReadOnlyList<string>> values)
{
    public const string Section = "Kms";

    public IReadOnlyList<string> All(NodeFlag flag) =>
        values.TryGetValue(flag.Name, out var v) && v.Count > 0 ? v : [flag.Default];

    /// <summary>The last value given (a single-valued flag given twice takes the later one).</summary>
    public string One(NodeFlag flag) => All(flag)[^1];

    /// <summary>
    /// Reads section <see cref="Section"/> of <paramref name="configuration"/>. A list comes whole from the last
    /// source that sets it: a later source replaces it rather than merging into it by index, as the
    /// configuration root would. A key no flag knows is an error that names it.
    /// </summary>
    /// <param name="where">Names the source of an unknown key in its message (the appsettings.json path).</param>
    public static NodeSettings From(IConfigurationRoot configuration, Func<IConfigurationProvider, string> where)
    {
        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var provider in configuration.Providers)
        {
            foreach (var key in provider.GetChildKeys([], Section).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var flag = NodeFlags.All.FirstOrDefault(f => string.Equals(f.SettingsKey, key, StringComparison.OrdinalIgnoreCase))
                    ?? throw new NodeOptionsException($"{where(provider)}: unknown setting {Section}:{key} (known: {string.Join(", ", NodeFlags.All.Select(f => f.SettingsKey))})");
                var path = ConfigurationPath.Combine(Section, key);
                var items = provider.GetChildKeys([], path).Distinct().OrderBy(k => int.TryParse(k, out var i) ? i : int.MaxValue).ToArray();
                values[flag.Name] = items.Length > 0
                    ? items.Select(i => provider.TryGet(ConfigurationPath.Combine(path, i), out var item) ? item ?? "" : "").ToArray()
                    : provider.TryGet(path, out var single) && single is not null ? [single] : [];
            }
        }
        return new NodeSettings(values);
    }
}
