using System.Net;
using System.Text;
using System.Text.Json;
using KmsCluster.Client.Authority;

namespace KmsCluster.Authority.Tests;

/// <summary>Requests the authority must not count: 400 invalid-request with the reason, and nothing recorded.</summary>
public sealed class RefusalTests(AuthorityFixture authority) : IClassFixture<AuthorityFixture>
{
    private AuthorityClient Client => authority.Client;

    private async Task AssertNothingRecordedAsync(string keyId)
    {
        var recorded = await AuthoritySteps.HostsAsync(authority.Process.Url, keyId);
        Assert.Equal(0, recorded.GetProperty("hostCount").GetInt32());
    }

    [Fact]
    public async Task A_request_altered_after_the_host_signed_it_fails_the_proof_of_possession()
    {
        var key = authority.Keys.Issue("forged-proof");
        using var host = new TestHost("honest");
        var forged = host.Request(key) with { HostName = "impostor" };
        var refusal = await Client.RefusedAsync(forged, 400, "invalid-request");
        Assert.Contains("proof of possession", refusal.Message);

        // Someone else's public key with the honest host's signature: the same.
        using var other = new TestHost("other");
        var stolen = host.Request(key) with { HostPublicKey = other.Key.PublicKey };
        await Client.RefusedAsync(stolen, 400, "invalid-request");
        await AssertNothingRecordedAsync(key.KeyId);
    }

    [Fact]
    public async Task A_key_of_another_authority_is_refused_and_so_is_one_that_names_this_authority_with_a_foreign_signature()
    {
        using var foreign = new TestAuthorityKeys();
        var theirs = foreign.Issue("foreign-key");
        using var host = new TestHost("foreign-host");
        var refusal = await Client.RefusedAsync(host.Request(theirs), 400, "invalid-request");
        Assert.Contains($"not by this authority ({authority.Process.Authority})", refusal.Message);

        var claimed = theirs with { Authority = authority.Process.Authority };
        var forgedKey = claimed with { Signature = foreign.Authority.Sign(claimed.CanonicalBytes()) };
        refusal = await Client.RefusedAsync(host.Request(forgedKey), 400, "invalid-request");
        Assert.Contains("signature is not this authority's", refusal.Message);
        await AssertNothingRecordedAsync(theirs.KeyId);
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        var now = DateTimeOffset.UtcNow;
        var key = authority.Keys.Issue("expired", issuedAt: now.AddDays(-30), expiresAt: now.AddDays(-1));
        using var host = new TestHost("late");
        var refusal = await Client.RefusedAsync(host.Request(key), 400, "invalid-request");
        Assert.Contains("expired at", refusal.Message);
        await AssertNothingRecordedAsync(key.KeyId);
    }

    [Fact]
    public async Task A_request_more_than_four_hours_from_the_authoritys_clock_is_refused_either_way()
    {
        var key = authority.Keys.Issue("skewed");
        using var host = new TestHost("skewed");
        var now = DateTimeOffset.UtcNow;
        var behind = await Client.RefusedAsync(host.Request(key, at: now.AddHours(-5)), 400, "invalid-request");
        Assert.Contains("behind the authority's clock", behind.Message);
        var ahead = await Client.RefusedAsync(host.Request(key, at: now.AddHours(5)), 400, "invalid-request");
        Assert.Contains("ahead of the authority's clock", ahead.Message);
        await AssertNothingRecordedAsync(key.KeyId);
        // Within the tolerance is fine.
        await Client.GrantedAsync(host.Request(key, at: now.AddHours(-3)), "activated");
    }

    [Fact]
    public async Task A_body_that_is_not_a_request_is_invalid_with_a_one_line_reason()
    {
        using var http = new HttpClient { BaseAddress = authority.Process.Url };
        foreach (var body in new[] { "not json", "{}", """{"format":"kmscluster-host-activation-request/1"}""" })
        {
            using var response = await http.PostAsync("api/v1/host-activations", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("invalid-request", error.RootElement.GetProperty("code").GetString());
            Assert.DoesNotContain('\n', error.RootElement.GetProperty("message").GetString()!);
        }
        using var badKeyId = await http.GetAsync("api/v1/host-keys/Not_A_Key");
        Assert.Equal(HttpStatusCode.BadRequest, badKeyId.StatusCode);
    }
}
