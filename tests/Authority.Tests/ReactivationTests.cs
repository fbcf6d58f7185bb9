using KmsCluster.Client.Authority;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>Re-activations: counted up to 9 per host and key, durably, and a retried request only once.</summary>
public sealed class ReactivationTests(AuthorityFixture authority) : IClassFixture<AuthorityFixture>
{
    private AuthorityClient Client => authority.Client;

    private async Task<int> ReactivationsAsync(string keyId, TestHost host)
    {
        var recorded = await AuthoritySteps.HostsAsync(authority.Process.Url, keyId);
        return recorded.GetProperty("hosts").EnumerateArray()
            .Single(h => h.GetProperty("hostId").GetString() == host.Id.ToString("D"))
            .GetProperty("reactivations").GetInt32();
    }

    [Fact]
    public async Task A_known_host_asking_again_without_reactivation_is_already_active_with_a_fresh_certificate_and_not_counted()
    {
        var key = authority.Keys.Issue("already-active");
        using var host = new TestHost("restarted");
        var first = await Client.GrantedAsync(host.Request(key), "activated");
        var again = await Client.GrantedAsync(host.Request(key), "already-active");
        Assert.NotEqual(first.Certificate.Signature, again.Certificate.Signature);
        Assert.Null(again.Certificate.Problem(authority.Keys.Authority.Public, DateTimeOffset.UtcNow));
        Assert.Equal(0, await ReactivationsAsync(key.KeyId, host));
    }

    [Fact]
    public async Task A_reinstalled_host_with_a_new_public_key_is_a_reactivation_even_when_it_does_not_say_so()
    {
        var key = authority.Keys.Issue("reinstalled");
        using var host = new TestHost("reinstalled");
        await Client.GrantedAsync(host.Request(key), "activated");
        host.Reinstall();
        var granted = await Client.GrantedAsync(host.Request(key, reactivation: false), "reactivated");
        Assert.Equal(host.Key.PublicKey, granted.Certificate.HostPublicKey);
        Assert.Equal(1, await ReactivationsAsync(key.KeyId, host));
    }

    [Fact]
    public async Task A_retried_identical_request_is_answered_as_before_and_counted_once()
    {
        var key = authority.Keys.Issue("retry");
        using var host = new TestHost("retrying");
        var activation = host.Request(key);
        var first = await Client.GrantedAsync(activation, "activated");
        var retried = await Client.GrantedAsync(activation, "activated");
        Assert.Equal(first.Certificate.ToJson(), retried.Certificate.ToJson());

        var reactivation = host.Request(key, reactivation: true);
        var counted = await Client.GrantedAsync(reactivation, "reactivated");
        for (var i = 0; i < 3; i++)
        {
            var again = await Client.GrantedAsync(reactivation, "reactivated");
            Assert.Equal(counted.Certificate.ToJson(), again.Certificate.ToJson());
        }
        Assert.Equal(1, await ReactivationsAsync(key.KeyId, host));
        var recorded = await AuthoritySteps.HostsAsync(authority.Process.Url, key.KeyId);
        Assert.Equal(1, recorded.GetProperty("hostCount").GetInt32());
    }

    [Fact]
    public async Task Nine_reactivations_then_refusal_and_the_count_survives_restarts_of_the_authority()
    {
        using var keys = new TestAuthorityKeys();
        using var data = new TempDirectory();
        var key = keys.Issue("nine-reactivations");
        using var host = new TestHost("often-reinstalled");

        await using (var first = await AuthorityProcess.StartAsync(keys.Directory, data.Path))
        {
            using var client = new AuthorityClient(first.Url);
            await client.GrantedAsync(host.Request(key), "activated");
            for (var i = 0; i < 5; i++) await client.GrantedAsync(host.Request(key, reactivation: true), "reactivated");
            // Killed, not stopped: what was answered must have been on disk already.
            await first.KillAsync();
        }
        await using (var second = await AuthorityProcess.StartAsync(keys.Directory, data.Path))
        {
            using var client = new AuthorityClient(second.Url);
            for (var i = 0; i < 4; i++) await client.GrantedAsync(host.Request(key, reactivation: true), "reactivated");
            var refusal = await client.RefusedAsync(host.Request(key, reactivation: true), 409, "reactivation-limit-reached");
            Assert.Contains("9 times", refusal.Message);
            // A reinstall is a re-activation too, and refused as well.
            host.Reinstall();
            await client.RefusedAsync(host.Request(key), 409, "reactivation-limit-reached");
            await second.KillAsync();
        }
        await using var third = await AuthorityProcess.StartAsync(keys.Directory, data.Path);
        using var thirdClient = new AuthorityClient(third.Url);
        await thirdClient.RefusedAsync(host.Request(key, reactivation: true), 409, "reactivation-limit-reached");
        var recorded = await AuthoritySteps.HostsAsync(third.Url, key.KeyId);
        Assert.Equal(9, recorded.GetProperty("hosts")[0].GetProperty("reactivations").GetInt32());
    }
}
