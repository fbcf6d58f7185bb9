using KmsCluster.Client.Authority;

namespace KmsCluster.Authority.Tests;

/// <summary>The host limit holds for everyone who uses a key: hosts of separate clusters count together.</summary>
public sealed class HostLimitTests(AuthorityFixture authority) : IClassFixture<AuthorityFixture>
{
    private AuthorityClient Client => authority.Client;

    [Fact]
    public async Task Six_hosts_of_one_cluster_activate_and_a_host_of_another_cluster_is_the_seventh_and_refused()
    {
        var key = authority.Keys.Issue("six-hosts");
        var clusterA = Enumerable.Range(1, 6).Select(i => new TestHost($"cluster-a-{i}")).ToList();
        foreach (var host in clusterA)
        {
            var granted = await Client.GrantedAsync(host.Request(key), "activated");
            Assert.Null(granted.Certificate.Problem(authority.Keys.Authority.Public, DateTimeOffset.UtcNow));
            Assert.Equal(host.Id, granted.Certificate.HostId);
        }
        using var otherCluster = new TestHost("cluster-b-1");
        var refusal = await Client.RefusedAsync(otherCluster.Request(key), 409, "host-limit-reached");
        Assert.Contains("6 of its 6 hosts", refusal.Message);
        // Asking again changes nothing, and the six keep their activation.
        await Client.RefusedAsync(otherCluster.Request(key, reactivation: true), 409, "host-limit-reached");
        await Client.GrantedAsync(clusterA[0].Request(key), "already-active");

        var recorded = await AuthoritySteps.HostsAsync(authority.Process.Url, key.KeyId);
        Assert.Equal(6, recorded.GetProperty("hostCount").GetInt32());
        Assert.Equal(clusterA.Select(h => h.Id.ToString("D")),
            recorded.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("hostId").GetString()));
        clusterA.ForEach(h => h.Dispose());
    }

    [Fact]
    public async Task A_key_with_maxHosts_activates_that_many_hosts_and_no_more()
    {
        var wide = authority.Keys.Issue("max-hosts-8", maxHosts: 8);
        for (var i = 0; i < 8; i++)
        {
            using var host = new TestHost($"wide-{i}");
            await Client.GrantedAsync(host.Request(wide), "activated");
        }
        using var ninth = new TestHost("wide-9");
        await Client.RefusedAsync(ninth.Request(wide), 409, "host-limit-reached");

        var narrow = authority.Keys.Issue("max-hosts-2", maxHosts: 2);
        using var first = new TestHost("narrow-1");
        using var second = new TestHost("narrow-2");
        using var third = new TestHost("narrow-3");
        await Client.GrantedAsync(first.Request(narrow), "activated");
        await Client.GrantedAsync(second.Request(narrow), "activated");
        await Client.RefusedAsync(third.Request(narrow), 409, "host-limit-reached");
    }

    [Fact]
    public async Task Twenty_hosts_asking_at_once_activate_exactly_six()
    {
        var key = authority.Keys.Issue("concurrent");
        var hosts = Enumerable.Range(0, 20).Select(i => new TestHost($"racer-{i}")).ToList();
        var answers = await Task.WhenAll(hosts.Select(h => Client.ActivateAsync(h.Request(key), CancellationToken.None)));
        Assert.Equal(6, answers.OfType<AuthorityGranted>().Count(a => a.Outcome == "activated"));
        Assert.Equal(14, answers.OfType<AuthorityRefusal>().Count(r => r.Code == "host-limit-reached"));
        var recorded = await AuthoritySteps.HostsAsync(authority.Process.Url, key.KeyId);
        Assert.Equal(6, recorded.GetProperty("hostCount").GetInt32());
        hosts.ForEach(h => h.Dispose());
    }
}
