using System.Net;
using KmsCluster.Client.Discovery;

namespace KmsCluster.Client.Tests;

/// <summary>RFC 2782 ordering of discovered hosts and the command line's --discover rules (the look-ups against a real
/// DNS server are tested in Node.Tests/DnsPublishingTests with BIND).</summary>
public sealed class DiscoveryTests
{
    private static SrvHost Host(ushort priority, ushort weight, string target) =>
        new(priority, weight, 1688, target, [IPAddress.Loopback]);

    private static Dictionary<string, int> FirstPicks(IReadOnlyList<SrvHost> hosts, int runs, int seed)
    {
        var random = new Random(seed);
        var counts = hosts.ToDictionary(h => h.Target, _ => 0);
        for (var i = 0; i < runs; i++)
        {
            counts[SrvDiscovery.Order(hosts, random)[0].Target]++;
        }
        return counts;
    }

    [Fact]
    public void Lower_priorities_always_come_first_and_every_host_appears_once()
    {
        SrvHost[] hosts = [Host(20, 100, "c"), Host(10, 1, "a"), Host(10, 50, "b"), Host(30, 0, "d")];
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var order = SrvDiscovery.Order(hosts, random);
            Assert.Equal(4, order.Count);
            Assert.Equal(["a", "b"], order.Take(2).Select(h => h.Target).Order());
            Assert.Equal(["c", "d"], order.Skip(2).Select(h => h.Target));
        }
    }

    [Fact]
    public void Within_a_priority_hosts_are_picked_in_proportion_to_their_weight()
    {
        var counts = FirstPicks([Host(0, 60, "a"), Host(0, 30, "b"), Host(0, 10, "c")], runs: 20_000, seed: 1);
        Assert.InRange(counts["a"], 11_400, 12_600); // 60 % of 20000, within 3 points
        Assert.InRange(counts["b"], 5_400, 6_600);
        Assert.InRange(counts["c"], 1_600, 2_400);
    }

    [Fact]
    public void Weight_zero_hosts_get_a_small_chance_beside_weighted_ones_and_an_equal_one_among_themselves()
    {
        // Weight 0 against 99: picked first only when the draw is 0, i.e. 1 time in 100.
        var rare = FirstPicks([Host(0, 99, "heavy"), Host(0, 0, "zero")], runs: 20_000, seed: 2);
        Assert.InRange(rare["zero"], 100, 350);

        var equal = FirstPicks([Host(0, 0, "a"), Host(0, 0, "b"), Host(0, 0, "c")], runs: 9_000, seed: 3);
        Assert.All(equal.Values, count => Assert.InRange(count, 2_600, 3_400));
    }

    [Fact]
    public void A_host_with_addresses_gives_one_server_per_address_and_one_without_gives_its_name()
    {
        var twoAddresses = new SrvHost(0, 0, 1700, "kms1.corp.example", [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1")]);
        Assert.Equal(["192.0.2.1:1700", "[2001:db8::1]:1700"], twoAddresses.Servers.Select(s => s.ToString()));
        Assert.Equal(["kms2.corp.example:1688"], new SrvHost(0, 0, 1688, "kms2.corp.example", []).Servers.Select(s => s.ToString()));
    }
}
