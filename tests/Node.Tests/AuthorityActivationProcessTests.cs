using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>Nodes activated by the real licensing authority service (kms-authority) over HTTP: it counts the hosts
/// of a key across separate nodes, and a certified node keeps serving while it is away.</summary>
public sealed class AuthorityActivationProcessTests
{
    [Fact]
    public async Task The_authority_refuses_a_second_nodes_host_and_a_certified_node_serves_while_the_authority_is_away()
    {
        using var data = new TempDirectory();
        var keys = Path.Combine(data.Path, "authority-keys");
        var keyFile = Path.Combine(data.Path, "one-host.hostkey.json");
        using (var authority = LicensingAuthority.Create(keys))
        {
            File.WriteAllText(keyFile, authority.Issue("k-one-host", "Windows Server 2025 volume licence", "Contoso",
                DateTimeOffset.UtcNow.AddDays(-1), maxHosts: 1).ToJson());
        }
        var service = await AuthorityProcess.StartAsync(keys, Path.Combine(data.Path, "authority-data"));
        string[] args = ["--authority-key", Path.Combine(keys, LicensingAuthority.PublicKeyFile), "--host-key", keyFile,
            "--authority-url", service.Url.ToString()];
        var first = Path.Combine(data.Path, "first");

        await using (var node = await NodeProcess.StartAsync(first, args))
        {
            await ReasonAsync(node, "certified by the licensing authority until");
            await ActivatesAsync(node);
            Assert.Contains("the licensing authority answered activated", node.Output);
            Assert.DoesNotContain("asking the host activation ledger", node.Output);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        // A second node on its own data directory and ledger: the authority has counted the key's only host.
        await using (var second = await NodeProcess.StartAsync(Path.Combine(data.Path, "second"), args))
        {
            await ReasonAsync(second, "refused by the licensing authority: the key has activated its limit of 1 hosts");
            await using var connection = await second.OpenConnectionAsync();
            var refused = await connection.ActivateAsync(Requests.For("windows-server-2025-standard"), TimeSpan.FromSeconds(30));
            Assert.Equal(ErrorCode.NoHostKey, refused.Error.Code);
        }

        // The authority is away: the first node serves with the certificate it holds.
        await service.KillAsync();
        await service.DisposeAsync();
        await using (var node = await NodeProcess.StartAsync(first, args))
        {
            await ReasonAsync(node, "certified by the licensing authority until");
            await ActivatesAsync(node);
        }
    }

    private static async Task ActivatesAsync(NodeProcess node)
    {
        await using var connection = await node.OpenConnectionAsync();
        var result = await connection.ActivateAsync(Requests.For("windows-server-2025-standard"), TimeSpan.FromSeconds(30));
        Assert.False(result.IsError, result.ToString());
    }

    /// <summary>Waits until the node's one key gives <paramref name="reason"/> (the authority answers in the background).</summary>
    private static async Task ReasonAsync(NodeProcess node, string reason)
    {
        using var admin = new AdminClient(node);
        var last = "";
        for (var i = 0; i < 300; i++)
        {
            last = Assert.Single((await admin.HostAsync()).Keys).Reason;
            if (last.Contains(reason, StringComparison.Ordinal)) return;
            await Task.Delay(100);
        }
        Assert.Fail($"the key's reason is \"{last}\", not \"{reason}\"\n{node.Output}");
    }
}
