using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace KmsCluster.Node.Configuration;

/// <summary>Collects raw values for every <see cref="NodeFlag"/> from the three places an operator can set them.
/// Later sources replace earlier ones per flag (a list from the environment replaces the list in
/// appsettings.json; it does not merge with it).</summary>
public static class NodeSettingsSources
{
    public static Dictionary<string, IReadOnlyList<string>> Collect(string? appSettingsPath,
        IReadOnlyDictionary<string, string> environment, ParseResult? commandLine,
        IReadOnlyDictionary<NodeFlag, Option> flagOptions)
    {
        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

        if (appSettingsPath is not null && File.Exists(appSettingsPath))
        {
            IConfigurationSection section;
            try
            {
                section = new ConfigurationBuilder().AddJsonFile(appSettingsPath, optional: true).Build().GetSection("Kms");
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new NodeOptionsException($"{appSettingsPath}: {e.Message}");
            }
            foreach (var child in section.GetChildren())
            {
                var flag = NodeFlags.All.FirstOrDefault(f => string.Equals(f.SettingsKey, child.Key, StringComparison.OrdinalIgnoreCase))
                    ?? throw new NodeOptionsException($"{appSettingsPath}: unknown setting Kms:{child.Key} (known: {string.Join(", ", NodeFlags.All.Select(f => f.SettingsKey))})");
                values[flag.Name] = child.Value is { } single
                    ? [single]
                    : child.GetChildren().Select(c => c.Value ?? "").ToArray();
            }
        }

        foreach (var flag in NodeFlags.All)
        {
            if (environment.TryGetValue(flag.EnvironmentVariable, out var text) && text.Length > 0)
            {
                values[flag.Name] = flag.Repeatable
                    ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [text];
            }
        }

        if (commandLine is not null)
        {
            foreach (var (flag, option) in flagOptions)
            {
                if (commandLine.GetResult(option) is not { Implicit: false })
                {
                    continue;
                }
                var given = option switch
                {
                    Option<string[]> many => commandLine.GetValue(many) ?? [],
                    Option<string> one => commandLine.GetValue(one) is { } value ? [value] : [],
                    Option<bool> on => [commandLine.GetValue(on) ? "true" : "false"],
                    _ => [],
                };
                if (given.Length > 0)
                {
                    values[flag.Name] = given;
                }
            }
        }
        return values;
    }

    /// <summary>Environment variables that start with KMS_.</summary>
    public static IReadOnlyDictionary<string, string> KmsEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => e.Key is string key && key.StartsWith("KMS_", StringComparison.Ordinal))
            .ToDictionary(e => (string)e.Key, e => e.Value as string ?? "");
}
