using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The --dns-* flags: defaults, the three sources, TSIG keys, and a one-line reason for each wrong value.</summary>
public sealed class DnsPublishingOptionsTests
{
    private static DnsPublishing Read(Dictionary<string, string>? environment, params string[] args)
    {
        var (root, options) = NodeCommandLine.Create();
        var parsed = root.Parse(args);
        Assert.Empty(parsed.Errors);
        return DnsPublishing.Read(NodeConfiguration.Load(null, environment ?? [], parsed, options));
    }

    private static string Refused(params string[] args) =>
        Assert.Throws<NodeOptionsException>(() => Read(null, args)).Message;

    [Fact]
    public void Publishing_is_off_unless_asked_for()
    {
        var dns = Read(null, "--dns-zone", "kms.example");
        Assert.False(dns.Enabled);
        Assert.Same(DnsPublishing.Off, dns);
    }

    [Fact]
    public void Flags_give_the_srv_record_and_a_name_without_a_dot_is_taken_inside_the_zone()
    {
        var dns = Read(null, "--dns-publish", "--dns-server", "127.0.0.1:5353", "--dns-zone", "kms.example.",
            "--dns-name", "node1", "--dns-priority", "10", "--dns-weight", "60", "--dns-ttl", "10m", "--dns-refresh", "12h",
            "--dns-address", "127.0.0.1", "--dns-address", "[::1]");

        Assert.True(dns.Enabled);
        Assert.Equal(new DnsServerEndpoint("127.0.0.1", 5353), dns.Server);
        Assert.Equal("kms.example", dns.Zone);
        Assert.Equal("_vlmcs._tcp.kms.example", dns.Owner);
        Assert.Equal("node1.kms.example", dns.Target);
        Assert.Equal(10, dns.Priority);
        Assert.Equal(60, dns.Weight);
        Assert.Equal(TimeSpan.FromMinutes(10), dns.Ttl);
        Assert.Equal(TimeSpan.FromHours(12), dns.Refresh);
        Assert.Equal(["127.0.0.1", "::1"], dns.Addresses.Select(a => a.ToString()));
        Assert.Null(dns.Tsig);
        Assert.Equal("_vlmcs._tcp.kms.example. 600 IN SRV 10 60 1688 node1.kms.example.", new DnsRegistration(dns, 1688).SrvText);
    }

    [Fact]
    public void Defaults_are_port_53_priority_and_weight_0_ttl_1h_refresh_24h_and_the_zone_from_the_name()
    {
        var dns = Read(null, "--dns-publish", "--dns-server", "ns1.corp.example", "--dns-name", "kms1.corp.example");
        Assert.Equal(new DnsServerEndpoint("ns1.corp.example", 53), dns.Server);
        Assert.Equal("corp.example", dns.Zone);
        Assert.Equal("kms1.corp.example", dns.Target);
        Assert.Equal((0, 0), (dns.Priority, dns.Weight));
        Assert.Equal(TimeSpan.FromHours(1), dns.Ttl);
        Assert.Equal(TimeSpan.FromHours(24), dns.Refresh);
    }

    [Fact]
    public void The_environment_sets_publishing_like_any_flag_and_the_switch_flag_wins()
    {
        var environment = new Dictionary<string, string>
        {
            ["KMS_DNS_PUBLISH"] = "true",
            ["KMS_DNS_SERVER"] = "[::1]:5353",
            ["KMS_DNS_ZONE"] = "kms.example",
            ["KMS_DNS_NAME"] = "node2",
            ["KMS_DNS_WEIGHT"] = "5",
            ["KMS_DNS_TSIG_NAME"] = "kms-update",
            ["KMS_DNS_TSIG_SECRET"] = Convert.ToBase64String(new byte[32]),
        };
        var dns = Read(environment);
        Assert.True(dns.Enabled);
        Assert.Equal(new DnsServerEndpoint("::1", 5353), dns.Server);
        Assert.Equal("node2.kms.example", dns.Target);
        Assert.Equal(5, dns.Weight);
        Assert.Equal(new TsigKey("kms-update", "hmac-sha256", new byte[32]).ToString(), dns.Tsig!.ToString());

        Assert.False(Read(new Dictionary<string, string> { ["KMS_DNS_PUBLISH"] = "false" }).Enabled);
        Assert.True(Read(new Dictionary<string, string> { ["KMS_DNS_PUBLISH"] = "false", ["KMS_DNS_SERVER"] = "127.0.0.1", ["KMS_DNS_ZONE"] = "z.example" },
            "--dns-publish").Enabled);
    }

    [Fact]
    public void A_bind_key_file_as_tsig_keygen_writes_it_is_read()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "kms-update.key");
        File.WriteAllText(path, """
            # made by tsig-keygen -a hmac-sha512 kms-update
            key "kms-update." {
            	algorithm hmac-sha512;
            	secret "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";
            };
            """);
        var key = Read(null, "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-file", path).Tsig!;
        Assert.Equal("kms-update", key.Name);
        Assert.Equal("hmac-sha512", key.Algorithm);
        Assert.Equal("secret-secret-secret-secret-1234"u8.ToArray(), key.Secret);
        Assert.DoesNotContain("c2Vj", key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_holding_two_slashes_is_not_cut_as_a_comment()
    {
        // Base64 has '/' in its alphabet: about one random 256-bit secret in a hundred holds "//".
        using var directory = new TempDirectory();
        var secret = new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        Assert.Contains("//", Convert.ToBase64String(secret));
        var path = Path.Combine(directory.Path, "kms-update.key");
        File.WriteAllText(path, $"key \"kms-update\" {{ algorithm hmac-sha256; secret \"{Convert.ToBase64String(secret)}\"; }}; // a comment\n");

        var key = Read(null, "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-file", path).Tsig!;

        Assert.Equal(secret, key.Secret);
    }

    [Theory]
    [InlineData("--dns-publish needs --dns-server", "--dns-publish", "--dns-zone", "kms.example")]
    [InlineData("--dns-server: \"127.0.0.1:0\" is not HOST[:PORT]", "--dns-publish", "--dns-server", "127.0.0.1:0", "--dns-zone", "kms.example")]
    [InlineData("--dns-server: \"::1\" is not HOST[:PORT]", "--dns-publish", "--dns-server", "::1", "--dns-zone", "kms.example")]
    [InlineData("--dns-zone: \"kms..example\" is not a domain name", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms..example")]
    [InlineData("--dns-zone: needed with --dns-publish", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-name", "plainhost")]
    [InlineData("--dns-name: \"bad name.kms.example\" is not a domain name", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-name", "bad name")]
    [InlineData("--dns-priority: \"65536\" is not a whole number from 0 to 65535", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-priority", "65536")]
    [InlineData("--dns-weight: \"x1\" is not a whole number", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-weight", "x1")]
    [InlineData("--dns-ttl: whole seconds from 0s to 7d", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-ttl", "8d")]
    [InlineData("--dns-refresh: must be between 10s and 30d", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-refresh", "5s")]
    [InlineData("--dns-address: \"10.1\" is not an IPv4 or IPv6 address", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-address", "10.1")]
    [InlineData("--dns-address: the target kms1.other.example is outside the zone kms.example", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-name", "kms1.other.example", "--dns-address", "10.0.0.1")]
    [InlineData("--dns-tsig-name and --dns-tsig-secret go together", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-name", "k")]
    [InlineData("--dns-tsig-secret: the secret is not base64", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-name", "k", "--dns-tsig-secret", "not base64!")]
    [InlineData("--dns-tsig-algorithm: \"hmac-sha3\" is not one of", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-name", "k", "--dns-tsig-secret", "AAAA", "--dns-tsig-algorithm", "hmac-sha3")]
    [InlineData("--dns-tsig-file: cannot read", "--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-file", "/nonexistent/kms.key")]
    public void Wrong_values_are_refused_with_their_flag(string expected, params string[] args) =>
        Assert.StartsWith(expected, Refused(args), StringComparison.Ordinal);

    [Fact]
    public void A_key_file_without_one_key_clause_is_refused()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "empty.key");
        File.WriteAllText(path, "# nothing here\n");
        Assert.StartsWith($"--dns-tsig-file: {path} holds no key clauses",
            Refused("--dns-publish", "--dns-server", "127.0.0.1", "--dns-zone", "kms.example", "--dns-tsig-file", path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_publish_value_that_is_not_a_boolean_is_refused()
    {
        var error = Assert.Throws<NodeOptionsException>(() => Read(new Dictionary<string, string> { ["KMS_DNS_PUBLISH"] = "sometimes" }));
        Assert.Equal("--dns-publish: \"sometimes\" is not true or false", error.Message);
    }
}
