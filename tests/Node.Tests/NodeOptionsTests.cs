using KmsCluster.Node.Configuration;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>Settings come from appsettings.json, then KMS_* variables, then flags; each wrong value has its reason.</summary>
public sealed class NodeOptionsTests
{
    internal static NodeOptions Read(string? appSettingsJson, Dictionary<string, string>? environment, params string[] args)
    {
        using var directory = new TempDirectory();
        string? path = null;
        if (appSettingsJson is not null)
        {
            path = Path.Combine(directory.Path, "appsettings.json");
            File.WriteAllText(path, appSettingsJson);
        }
        var (root, options) = NodeCommandLine.Create();
        var parsed = root.Parse(args);
        Assert.Empty(parsed.Errors);
        return NodeOptionsReader.Read(NodeConfiguration.Load(path, environment ?? [], parsed, options));
    }

    [Fact]
    public void Defaults_follow_the_kms_model()
    {
        var options = Read(null, null);
        Assert.Equal("0.0.0.0:1688", Assert.Single(options.Listen).ToString());
        Assert.Equal("127.0.0.1:8688", options.Admin.ToString());
        Assert.Equal(120u, options.ActivationIntervalMinutes);
        Assert.Equal(10080u, options.RenewalIntervalMinutes);
        Assert.Equal(Path.GetFullPath("./data"), options.DataDirectory);
        Assert.Equal(Environment.MachineName, options.HostName);
    }

    [Fact]
    public void Flags_override_the_environment_which_overrides_appsettings()
    {
        const string json = """{ "Kms": { "ActivationInterval": "3h", "RenewalInterval": "2d", "Listen": [ "127.0.0.1:1", "127.0.0.1:2" ], "Name": "from-json" } }""";
        var environment = new Dictionary<string, string> { ["KMS_RENEWAL_INTERVAL"] = "5d", ["KMS_LISTEN"] = "[::1]:1688, 127.0.0.1:1689", ["KMS_NAME"] = "from-env" };

        var options = Read(json, environment, "--name", "from-flag");

        Assert.Equal(180u, options.ActivationIntervalMinutes);
        Assert.Equal(5u * 1440, options.RenewalIntervalMinutes);
        Assert.Equal(["[::1]:1688", "127.0.0.1:1689"], options.Listen.Select(l => l.ToString()));
        Assert.Equal("from-flag", options.HostName);
    }

    [Fact]
    public void Repeated_listen_flags_replace_the_configured_list()
    {
        var options = Read("""{ "Kms": { "Listen": [ "127.0.0.1:1" ] } }""", null,
            "--listen", "0.0.0.0:1688", "--listen", "[::]:1688", "--listen", "*:1700");
        Assert.Equal(["0.0.0.0:1688", "[::]:1688", "*:1700"], options.Listen.Select(l => l.ToString()));
        Assert.True(options.Listen[2].IsAnyAddress);
    }

    [Theory]
    [InlineData("15", 15u)]
    [InlineData("90m", 90u)]
    [InlineData("2h", 120u)]
    [InlineData("7d", 10080u)]
    [InlineData("30d", 43200u)]
    public void Intervals_accept_minutes_and_units(string text, uint minutes) =>
        Assert.Equal(minutes, DurationFlags.ParseIntervalMinutes(text, "--renewal-interval"));

    [Theory]
    [InlineData("14")]
    [InlineData("30d1")]
    [InlineData("43201")]
    [InlineData("90s")]
    [InlineData("-5")]
    [InlineData("")]
    [InlineData("1w")]
    public void Intervals_outside_15_minutes_to_30_days_or_not_minutes_are_refused(string text)
    {
        var error = Assert.Throws<NodeOptionsException>(() => DurationFlags.ParseIntervalMinutes(text, "--activation-interval"));
        Assert.StartsWith("--activation-interval:", error.Message);
    }

    [Fact]
    public void The_client_registry_is_on_by_default_keeps_400_days_and_can_be_turned_off()
    {
        var defaults = Read(null, null);
        Assert.Equal((true, TimeSpan.FromDays(400)), (defaults.ClientRegistry, defaults.ClientRetention));
        var off = Read(null, new() { ["KMS_CLIENT_REGISTRY"] = "off" }, "--client-retention", "30");
        Assert.Equal((false, TimeSpan.FromDays(30)), (off.ClientRegistry, off.ClientRetention));
        Assert.StartsWith("--client-registry: ", Assert.Throws<NodeOptionsException>(() => Read(null, null, "--client-registry", "sometimes")).Message);
        Assert.StartsWith("--client-retention: ", Assert.Throws<NodeOptionsException>(() => Read(null, null, "--client-retention", "10m")).Message);
    }

    [Fact]
    public void An_unknown_appsettings_key_is_named()
    {
        var error = Assert.Throws<NodeOptionsException>(() => Read("""{ "Kms": { "Lisen": "127.0.0.1:1" } }""", null));
        Assert.Contains("unknown setting Kms:Lisen", error.Message);
    }

    [Fact]
    public void Activation_and_admin_endpoints_must_differ()
    {
        var error = Assert.Throws<NodeOptionsException>(() => Read(null, null, "--listen", "127.0.0.1:9000", "--admin", "127.0.0.1:9000"));
        Assert.Contains("configured twice", error.Message);
    }

    [Theory]
    [InlineData("localhost:0", "fixed port")]
    [InlineData("1688", "is not HOST:PORT")]
    [InlineData("[::1:1688", "is not an IP address")]
    public void Listen_endpoints_are_checked(string text, string reason)
    {
        var error = Assert.Throws<NodeOptionsException>(() => ListenEndpoint.Parse(text, "--listen"));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void A_cluster_node_reads_seeds_database_and_split_brain()
    {
        var options = Read(null, null, "--db", "Host=10.0.0.9;Database=kms;Username=kms", "--cluster-host", "10.0.0.5",
            "--cluster-port", "4053", "--seed", "kms-a.corp.example:4053", "--seed", "[fd00::5]:4053");

        Assert.Equal(["kms-a.corp.example:4053", "[fd00::5]:4053"], options.Seeds.Select(s => s.ToString()));
        Assert.Equal("10.0.0.5", options.ClusterHost);
        Assert.Equal(4053, options.ClusterPort);
        Assert.Equal(SplitBrainStrategy.LeaseMajority, options.SplitBrain);
        Assert.Contains("Database=kms", options.Database);
    }

    [Theory]
    [InlineData("keep-majority", SplitBrainStrategy.KeepMajority)]
    [InlineData("keep-oldest", SplitBrainStrategy.KeepOldest)]
    [InlineData("lease-majority", SplitBrainStrategy.LeaseMajority)]
    [InlineData("auto", SplitBrainStrategy.LeaseMajority)]
    public void The_split_brain_strategy_can_be_chosen(string text, SplitBrainStrategy expected) =>
        Assert.Equal(expected, Read(null, null, "--db", "Host=db;Database=kms", "--split-brain", text).SplitBrain);

    [Fact]
    public void Licensing_settings_come_from_appsettings_the_environment_and_flags_like_the_others()
    {
        var json = $$"""{ "Kms": { "HostOs": "Windows Server 2019", "HostKey": [ "{{DemoLicence.OfficeKey}}" ] } }""";
        var environment = new Dictionary<string, string>
        {
            ["KMS_AUTHORITY_KEY"] = DemoLicence.AuthorityPublicKey,
            ["KMS_HOST_KEY"] = $"{DemoLicence.WindowsKey},{DemoLicence.OfficeKey}",
        };

        var fromEnvironment = Read(json, environment).Licensing;
        Assert.Equal("Windows Server 2019", fromEnvironment.HostOs.Name);
        Assert.Equal([DemoLicence.WindowsKeyId, DemoLicence.OfficeKeyId], fromEnvironment.HostKeys.Select(k => k.Key.KeyId));
        Assert.Equal([DemoLicence.AuthorityPublicKey], fromEnvironment.Authorities.Select(a => a.Source));
        Assert.Equal("built-in", fromEnvironment.CatalogSource);

        var fromFlags = Read(json, environment, "--host-os", "windows 11", "--host-key", DemoLicence.OfficeKey).Licensing;
        Assert.Equal("Windows 11", fromFlags.HostOs.Name);
        Assert.Equal([DemoLicence.OfficeKeyId], fromFlags.HostKeys.Select(k => k.Key.KeyId));
    }

    [Fact]
    public void By_default_a_node_stands_for_windows_server_2025_and_trusts_no_authority()
    {
        var licensing = Read(null, null).Licensing;
        Assert.Equal("Windows Server 2025", licensing.HostOs.Name);
        Assert.Empty(licensing.Authorities);
        Assert.Empty(licensing.HostKeys);
    }

    [Fact]
    public void The_authority_is_a_service_url_or_for_evaluation_a_key_pair_the_node_certifies_itself_with()
    {
        var url = Read(null, null, "--authority-url", "https://authority.contoso.example:8443/").Licensing;
        Assert.Equal(new Uri("https://authority.contoso.example:8443/"), url.AuthorityUrl);
        Assert.Null(url.LocalAuthority);

        // The local key pair's public half is trusted without --authority-key, once.
        var local = Read(null, null, "--authority-keys", DemoLicence.Directory, "--authority-key", DemoLicence.AuthorityPublicKey).Licensing;
        Assert.NotNull(local.LocalAuthority);
        Assert.Equal([local.LocalAuthority.Public.Fingerprint], local.Authorities.Select(a => a.Fingerprint));
        Assert.Single(Read(null, null, "--authority-keys", DemoLicence.Directory).Licensing.Authorities);

        Assert.Contains("not both", Assert.Throws<NodeOptionsException>(() =>
            Read(null, null, "--authority-url", "http://127.0.0.1:1", "--authority-keys", DemoLicence.Directory)).Message);
        Assert.StartsWith("--authority-url: \"ftp://x\" is not an http:// or https:// URL",
            Assert.Throws<NodeOptionsException>(() => Read(null, null, "--authority-url", "ftp://x")).Message);
        Assert.StartsWith("--authority-keys:", Assert.Throws<NodeOptionsException>(() =>
            Read(null, null, "--authority-keys", Path.Combine(Path.GetTempPath(), "no-such-authority"))).Message);
    }

    [Fact]
    public void A_key_installed_twice_is_refused()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"kms-key-copy-{Guid.NewGuid():N}.json");
        File.Copy(DemoLicence.WindowsKey, copy);
        try
        {
            var error = Assert.Throws<NodeOptionsException>(() => Read(null, null, "--host-key", DemoLicence.WindowsKey, "--host-key", copy));
            Assert.StartsWith($"--host-key: key {DemoLicence.WindowsKeyId} is installed twice", error.Message);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void A_single_node_without_a_database_has_no_seeds_and_no_lease()
    {
        var options = Read(null, null);
        Assert.Empty(options.Seeds);
        Assert.Null(options.Database);
        Assert.Equal(SplitBrainStrategy.KeepMajority, options.SplitBrain);
    }

    [Fact]
    public void Cluster_tls_needs_both_files_and_names_a_bad_one_in_one_line()
    {
        Assert.Null(Read(null, null).ClusterTls);
        var alone = Assert.Throws<NodeOptionsException>(() => Read(null, null, "--cluster-tls-cert", "node.pem"));
        Assert.StartsWith("--cluster-tls-cert and --cluster-tls-ca go together", alone.Message);

        using var directory = new TempDirectory();
        var notACertificate = Path.Combine(directory.Path, "node.pem");
        File.WriteAllText(notACertificate, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        var bad = Assert.Throws<NodeOptionsException>(() => Read(null, new() { ["KMS_CLUSTER_TLS_CERT"] = notACertificate },
            "--cluster-tls-ca", notACertificate));
        Assert.StartsWith($"--cluster-tls-cert: cannot read a certificate with its private key from {notACertificate}", bad.Message);
        Assert.DoesNotContain('\n', bad.Message);
    }
}
