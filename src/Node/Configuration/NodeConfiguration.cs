using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace KmsCluster.Node.Configuration;

/// <summary>
/// The node's <see cref="IConfiguration"/>: appsettings.json (section "Kms"), then KMS_* environment variables,
/// then command-line flags; a later source wins per setting (<see cref="NodeSettings.From"/>).
/// </summary>
public static class NodeConfiguration
{
    /// <exception cref="NodeOptionsException">appsettings.json is not valid JSON or names an unknown setting.</exception>
    public static NodeSettings Load(string? appSettingsPath, IReadOnlyDictionary<string, string> environment,
        ParseResult? commandLine, IReadOnlyDictionary<NodeFlag, Option> flagOptions)
    {
        var builder = new ConfigurationBuilder();
        if (appSettingsPath is not null && File.Exists(appSettingsPath))
        {
            builder.AddJsonFile(appSettingsPath, optional: true);
        }
        builder.Add(new KmsEnvironmentSource(environment));
        if (commandLine is not null)
        {
            builder.AddInMemoryCollection(CommandLineValues(commandLine, flagOptions));
        }
        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new NodeOptionsException($"{appSettingsPath}: {e.Message}");
        }
        return NodeSettings.From(configuration, provider => provider switch
        {
            JsonConfigurationProvider json => appSettingsPath ?? json.Source.Path ?? "appsettings.json",
            KmsEnvironmentSource.Provider => "environment",
            _ => "command line",
        });
    }

    /// <summary>Environment variables that start with KMS_.</summary>
    public static IReadOnlyDictionary<string, string> KmsEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => e.Key is string key && key.StartsWith("KMS_", StringComparison.Ordinal))
            .ToDictionary(e => (string)e.Key, e => e.Value as string ?? "");

    /// <summary>The flags given on the command line as Kms:Key (Kms:Key:0, :1 ... for repeatable ones).</summary>
    private static IEnumerable<KeyValuePair<string, string?>> CommandLineValues(ParseResult commandLine,
        IReadOnlyDictionary<NodeFlag, Option> flagOptions)
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
            foreach (var pair in flag.ConfigurationValues(given))
            {
                yield return pair;
            }
        }
    }
}
