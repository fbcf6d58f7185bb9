using KmsCluster.Authority.Configuration;
using KmsCluster.Node.Configuration;
using Microsoft.Extensions.Configuration;

namespace KmsCluster.Deploy.Tests;

/// <summary>Containers are configured by environment: every kms-node flag and every kms-authority serve flag
/// has a KMS_* variable by one rule (KMS_ + the flag's name in capitals, '-' as '_'), and the programs read it.</summary>
public sealed class EnvironmentVariableTests
{
    [Fact]
    public void Every_node_flag_is_read_from_its_KMS_variable()
    {
        Assert.Equal(NodeFlags.All.Count, NodeFlags.All.Select(f => f.EnvironmentVariable).Distinct().Count());
        foreach (var flag in NodeFlags.All)
        {
            Assert.Equal("KMS_" + flag.Name.Replace('-', '_').ToUpperInvariant(), flag.EnvironmentVariable);
            var value = flag.Switch ? "true" : $"value-of-{flag.Name}";
            var configuration = new ConfigurationBuilder()
                .Add(new KmsEnvironmentSource(new Dictionary<string, string> { [flag.EnvironmentVariable] = value }))
                .Build();
            var key = $"{NodeSettings.Section}:{flag.SettingsKey}" + (flag.Repeatable ? ":0" : "");
            Assert.True(configuration[key] == value, $"{flag.EnvironmentVariable} does not set {key}");
            Assert.Single(configuration.AsEnumerable(), pair => pair.Value is not null);
        }
    }

    [Fact]
    public void Every_authority_serve_flag_is_read_from_its_KMS_variable_and_a_flag_wins()
    {
        var environment = new Dictionary<string, string>
        {
            ["KMS_KEYS"] = "/keys",
            ["KMS_DATA"] = "/data",
            ["KMS_DB"] = "Host=db;Database=authority",
            ["KMS_LISTEN"] = "0.0.0.0:8443",
            ["KMS_TLS_CERT"] = "/tls/cert.pem",
            ["KMS_TLS_KEY"] = "/tls/key.pem",
            ["KMS_READY_FILE"] = "/run/ready.json",
        };
        Assert.Equal(environment.Keys.Order(), AuthorityCommandLine.ServeFlagNames.Select(AuthorityCommandLine.EnvironmentVariable).Order());

        var options = AuthorityCommandLine.ParseServe([], environment);
        Assert.Equal(new StoreOptions("/keys", "/data", "Host=db;Database=authority"), options.Store);
        Assert.Equal("0.0.0.0:8443", options.ListenText);
        Assert.Equal(("/tls/cert.pem", "/tls/key.pem", "/run/ready.json"), (options.TlsCertificate, options.TlsKey, options.ReadyFile));

        var flagged = AuthorityCommandLine.ParseServe(["--listen", "127.0.0.1:9443", "--data", "/elsewhere"], environment);
        Assert.Equal(("127.0.0.1:9443", "/elsewhere", "/keys"), (flagged.ListenText, flagged.Store.DataDirectory, flagged.Store.KeyDirectory));

        // A bad variable is refused like the flag it stands for.
        var bad = Assert.Throws<UsageException>(() => AuthorityCommandLine.ParseServe([], new Dictionary<string, string>
        {
            ["KMS_KEYS"] = "/keys", ["KMS_DATA"] = "/data", ["KMS_LISTEN"] = "nowhere",
        }));
        Assert.Contains("--listen \"nowhere\"", bad.Message);
        var missing = Assert.Throws<UsageException>(() => AuthorityCommandLine.ParseServe([], new Dictionary<string, string>()));
        Assert.Contains("--keys", missing.Message);
    }
}
