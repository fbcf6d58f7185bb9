using Microsoft.Extensions.Configuration;

namespace KmsCluster.Node.Configuration;

/// <summary>
/// KMS_* environment variables as configuration: KMS_ACTIVATION_INTERVAL becomes Kms:ActivationInterval, and a
/// repeatable flag's comma-separated list (KMS_LISTEN=a,b) becomes Kms:Listen:0, Kms:Listen:1. Only variables
/// of known flags are read: other KMS_* variables (of tests, of scripts) are none of the node's business.
/// </summary>
public sealed class KmsEnvironmentSource(IReadOnlyDictionary<string, string> environment) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(environment);

    public sealed class Provider(IReadOnlyDictionary<string, string> environment) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var flag in NodeFlags.All)
            {
                if (!environment.TryGetValue(flag.EnvironmentVariable, out var text) || text.Length == 0)
                {
                    continue;
                }
                var values = flag.Repeatable
                    ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [text];
                foreach (var (key, value) in flag.ConfigurationValues(values))
                {
                    data[key] = value;
                }
            }
            Data = data;
        }
    }
}
