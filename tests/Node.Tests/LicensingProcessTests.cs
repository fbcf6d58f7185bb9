using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>Host keys on the real node process: refusals on the wire, the admin API, the ledger across restarts.</summary>
public sealed class LicensingProcessTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    private static async Task<ErrorResponse> RefusedAsync(NodeProcess node, string product)
    {
        await using var connection = await node.OpenConnectionAsync();
        var result = await connection.ActivateAsync(Requests.For(product), Answer);
        Assert.True(result.IsError, $"{product} should be refused: {result}");
        return result.Error;
    }

    private static HostKeyLedgerJson Key(IReadOnlyList<HostKeyLedgerJson> keys, string keyId) => keys.Single(k => k.Key.KeyId == keyId);

    [Fact]
    public async Task A_node_without_a_valid_key_serves_its_admin_api_refuses_every_activation_and_says_why()
    {
        using var data = new TempDirectory();
        using var authority = LicensingAuthority.Create(Path.Combine(data.Path, "authority"));
        var expired = Path.Combine(data.Path, "expired.hostkey.json");
        File.WriteAllText(expired, authority.Issue("k-expired", "Windows Server 2025 volume licence", "Contoso",
            DateTimeOffset.UtcNow.AddDays(-400), DateTimeOffset.UtcNow.AddDays(-35)).ToJson());
        await using var node = await NodeProcess.StartAsync(Path.Combine(data.Path, "node"),
            "--authority-key", Path.Combine(data.Path, "authority", "authority.pub"), "--host-key", expired);

        var error = await RefusedAsync(node, "windows-11-pro");
        Assert.Equal(ErrorCode.NoHostKey, error.Code);
        Assert.False(error.Code.IsRetryable());
        Assert.Contains("this host has no valid host key: k-expired (Windows Server 2025 volume licence): expired at", error.Message);
        Assert.Equal(ErrorCode.NoHostKey, (await RefusedAsync(node, "office-2019-standard")).Code);

        using var admin = new AdminClient(node);
        var health = await admin.HealthAsync();
        Assert.Equal("ok", health.Status);
        Assert.Equal("unlicensed", health.Licence);
        Assert.Contains("expired at", Assert.Single(health.LicenceProblems));
        var host = await admin.HostAsync();
        Assert.Equal("unlicensed", host.Licence);
        var key = Assert.Single(host.Keys);
        Assert.Equal(("refused", "expired"), (key.Status, key.Problem));
        Assert.Empty(host.Activates);
        Assert.Equal("Windows Server 2025", host.HostOs.Name);
        Assert.True(await node.WaitForOutputAsync("Host key k-expired .* does not count: expired", TimeSpan.FromSeconds(5)), node.Output);
        Assert.Contains("No valid host key: every activation is refused with no-host-key", node.Output);
        var stats = await admin.StatsAsync();
        Assert.Equal(2, stats.ByError["no-host-key"]);
    }

    [Fact]
    public async Task A_node_with_no_key_at_all_refuses_with_no_host_key()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--authority-key", DemoLicence.AuthorityPublicKey);

        var error = await RefusedAsync(node, "windows-server-2025-standard");

        Assert.Equal(ErrorCode.NoHostKey, error.Code);
        Assert.Contains("this host has no host key", error.Message);
    }

    [Fact]
    public async Task An_edition_outside_the_key_group_is_not_allowed_and_not_counted()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path,
            "--authority-key", DemoLicence.AuthorityPublicKey, "--host-key", DemoLicence.OfficeKey);
        using var admin = new AdminClient(node);
        var before = await admin.WindowAsync("windows");

        var error = await RefusedAsync(node, "windows-11-enterprise");

        Assert.Equal(ErrorCode.ProductNotAllowed, error.Code);
        Assert.StartsWith("product not allowed on this host: windows-11-enterprise is outside the key groups of this host (Office LTSC 2024 volume licence)",
            error.Message);
        var after = await admin.WindowAsync("windows");
        Assert.Equal((0, 0L), (before.Count, before.Requests));
        Assert.Equal((0, 0L), (after.Count, after.Requests));
        // The key's own group is served.
        await using var connection = await node.OpenConnectionAsync();
        var office = await connection.ActivateAsync(Requests.For("office-ltsc-2024-standard"), Answer);
        Assert.False(office.IsError, office.ToString());
        Assert.Equal(1, (await admin.WindowAsync("office")).Count);
    }

    [Fact]
    public async Task The_ledger_survives_restarts_a_reinstall_counts_a_re_activation_and_the_tenth_is_refused()
    {
        using var data = new TempDirectory();
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            using var admin = new AdminClient(node);
            var keys = await admin.HostKeysAsync();
            var host = Assert.Single(Key(keys, DemoLicence.WindowsKeyId).Hosts!);
            Assert.Equal((Guid.Parse(node.HostId), 0, true), (host.HostId, host.Reactivations, host.Self));
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        // A plain restart: the data directory remembers the activation, nothing is counted.
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            using var admin = new AdminClient(node);
            var windows = Key(await admin.HostKeysAsync(), DemoLicence.WindowsKeyId);
            Assert.Equal(0, Assert.Single(windows.Hosts!).Reactivations);
            Assert.Equal(6, windows.Key.MaxHosts);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        // A reinstall keeps the host id but loses the record: the activation counts as a re-activation.
        File.Delete(Path.Combine(data.Path, "host-key-activations"));
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            using var admin = new AdminClient(node);
            var keys = await admin.HostKeysAsync();
            Assert.Equal(1, Assert.Single(Key(keys, DemoLicence.WindowsKeyId).Hosts!).Reactivations);
            Assert.Equal(1, Assert.Single(Key(keys, DemoLicence.OfficeKeyId).Hosts!).Reactivations);

            // Explicit re-activations: 2 to 9 are counted, the 10th is refused and the key stays active.
            for (var count = 2; count <= HostKey.MaxReactivations; count++)
            {
                var (status, body) = await admin.ReactivateAsync(DemoLicence.WindowsKeyId);
                Assert.Equal(200, status);
                Assert.Equal(("reactivated", count), (body.Outcome, body.Reactivations));
            }
            var (refusedStatus, refused) = await admin.ReactivateAsync(DemoLicence.WindowsKeyId);
            Assert.Equal(409, refusedStatus);
            Assert.Equal(("reactivation-limit-reached", 9), (refused.Outcome, refused.Reactivations));
            await using var connection = await node.OpenConnectionAsync();
            Assert.False((await connection.ActivateAsync(Requests.For("windows-server-2022-standard"), Answer)).IsError);
            var (unknownStatus, unknown) = await admin.SendAsync(HttpMethod.Post, "/api/v1/host-keys/no-such-key/reactivate", AdminJson.Http.ErrorJson);
            Assert.Equal(404, unknownStatus);
            Assert.StartsWith("no host key \"no-such-key\" on this node", unknown.Error);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        // Reinstalled once more: that would be the 10th re-activation, so the key is refused and says why.
        File.Delete(Path.Combine(data.Path, "host-key-activations"));
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            using var admin = new AdminClient(node);
            var windows = (await admin.HostAsync()).Keys.Single(k => k.KeyId == DemoLicence.WindowsKeyId);
            Assert.Equal(("refused", "reactivation-limit-reached"), (windows.Status, windows.Problem));
            var error = await RefusedAsync(node, "windows-11-pro");
            Assert.Equal(ErrorCode.NoHostKey, error.Code);
            Assert.Contains("re-activated 9 times", error.Message);
            // Office had one re-activation so far: its key still counts.
            await using var connection = await node.OpenConnectionAsync();
            Assert.False((await connection.ActivateAsync(Requests.For("office-2016-standard"), Answer)).IsError);
        }
    }
}
