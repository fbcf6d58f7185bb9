using System.Net;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Limits;

namespace KmsCluster.Node.Tests;

/// <summary>The abuse limit flags: defaults, values, a clear reason for each wrong one; and the source address the
/// per-source limits count by.</summary>
public sealed class AbuseLimitOptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_ones_and_exempt_loopback_only()
    {
        var limits = NodeOptionsTests.Read(null, null).Limits;
        Assert.Equal(AbuseLimits.Default with { Exempt = limits.Exempt }, limits);
        Assert.True(SourceKey.Of(new IPEndPoint(IPAddress.Parse("127.0.0.9"), 1)).IsIn(limits.Exempt));
        Assert.True(SourceKey.Of(new IPEndPoint(IPAddress.IPv6Loopback, 1)).IsIn(limits.Exempt));
        Assert.False(SourceKey.Of(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 1)).IsIn(limits.Exempt));
    }

    [Fact]
    public void Flags_and_environment_set_every_limit()
    {
        var limits = NodeOptionsTests.Read(null, new Dictionary<string, string> { ["KMS_LIMIT_EXEMPT"] = "10.0.0.0/8, 192.0.2.7" },
            "--max-connections", "100", "--max-connections-per-source", "7", "--frame-timeout", "500ms", "--source-rate", "0",
            "--max-pending", "9").Limits;
        Assert.Equal((100, 7, TimeSpan.FromMilliseconds(500), 0, 9),
            (limits.MaxConnections, limits.MaxConnectionsPerSource, limits.FrameTimeout, limits.SourceRate, limits.MaxPending));
        Assert.True(SourceKey.Of(new IPEndPoint(IPAddress.Parse("10.200.0.1"), 1)).IsIn(limits.Exempt));
        Assert.True(SourceKey.Of(new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.7"), 1)).IsIn(limits.Exempt));
        Assert.False(SourceKey.Of(new IPEndPoint(IPAddress.Loopback, 1)).IsIn(limits.Exempt));
        Assert.Empty(NodeOptionsTests.Read(null, null, "--limit-exempt", "none").Limits.Exempt);
    }

    [Theory]
    [InlineData("--max-connections", "0")]
    [InlineData("--max-connections-per-source", "many")]
    [InlineData("--frame-timeout", "50ms")]
    [InlineData("--frame-timeout", "10m")]
    [InlineData("--source-rate", "-1")]
    [InlineData("--max-pending", "0")]
    [InlineData("--limit-exempt", "10.0.0.1/8")]
    [InlineData("--limit-exempt", "intranet")]
    public void A_wrong_value_names_its_flag(string flag, string value) =>
        Assert.StartsWith(flag + ": ", Assert.Throws<NodeOptionsException>(() => NodeOptionsTests.Read(null, null, flag, value)).Message);

    [Fact]
    public void An_ipv4_mapped_client_is_its_ipv4_source_and_ipv6_clients_count_by_their_64()
    {
        Assert.Equal(SourceKey.Of(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1)),
            SourceKey.Of(new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.1"), 2)));
        var one = SourceKey.Of(new IPEndPoint(IPAddress.Parse("2001:db8:1:2:aaaa::1"), 1));
        var sameLan = SourceKey.Of(new IPEndPoint(IPAddress.Parse("2001:db8:1:2:ffff::9"), 1));
        var otherLan = SourceKey.Of(new IPEndPoint(IPAddress.Parse("2001:db8:1:3::1"), 1));
        Assert.Equal(one.Key, sameLan.Key);
        Assert.NotEqual(one.Key, otherLan.Key);
        Assert.Equal("2001:db8:1:2::/64", one.ToString());
    }
}
