namespace KmsCluster.Node.Configuration;

/// <summary>One flag of kms-node; its appsettings key and environment variable follow from its name.</summary>
/// <param name="Name">Flag name without dashes: listen, activation-interval.</param>
/// <param name="Switch">An on/off flag given without a value (--dns-publish); true or false in settings and variables.</param>
public sealed record NodeFlag(string Name, string ValueName, string Default, string Help, bool Repeatable = false, bool Switch = false)
{
    public string Flag => "--" + Name;

    /// <summary>Key in the "Kms" section of appsettings.json: ActivationInterval.</summary>
    public string SettingsKey => string.Concat(Name.Split('-').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    /// <summary>Environment variable: KMS_ACTIVATION_INTERVAL. Repeatable flags take a comma-separated list.</summary>
    public string EnvironmentVariable => "KMS_" + Name.Replace('-', '_').ToUpperInvariant();

    /// <summary>Configuration keys and values for <paramref name="values"/>: Kms:Key, or Kms:Key:0, :1 ... for a
    /// repeatable flag (as appsettings.json's arrays come in).</summary>
    public IEnumerable<KeyValuePair<string, string?>> ConfigurationValues(IReadOnlyList<string> values)
    {
        var key = NodeSettings.Section + ":" + SettingsKey;
        if (!Repeatable)
        {
            return values.Count == 0 ? [] : [new(key, values[^1])];
        }
        return values.Select((value, i) => new KeyValuePair<string, string?>($"{key}:{i}", value));
    }
}
