using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>The host activation ledger is one entity per key for the whole cluster, on the shared journal: its
/// limit holds across nodes, and it survives the death of the node it runs on and that node's restart.</summary>
public sealed class HostKeyLedgerTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);
    private const string TwoHostKeyId = "cluster-two-hosts";

    /// <summary>A key's ledger as one node's admin API shows it.</summary>
    private sealed record Ledger(string KeyId, string Status, string Problem, string? Owner, IReadOnlyList<LedgerHost> Hosts);

    private sealed record LedgerHost(string HostId, string Name, DateTimeOffset FirstActivatedAt, int Reactivations);

    private static async Task<Ledger?> ReadAsync(NodeProcess node, string keyId)
    {
        using var admin = new AdminClient(node);
        var (key, hosts, owner, _) = (await admin.HostKeysAsync()).Single(k => k.Key.KeyId == keyId);
        if (hosts is null)
        {
            return null; // the ledger did not answer in time (it is moving)
        }
        // Leaves out what depends on the node that answers (self) or on time (lastActivatedAt).
        return new Ledger(keyId, key.Status, key.Problem, owner,
            hosts.Select(h => new LedgerHost(h.HostId.ToString(), h.Name, h.FirstActivatedAt, h.Reactivations)).ToList());
    }

    /// <summary>Asks <paramref name="node"/> until the key's ledger answers from a node other than <paramref name="notOn"/>.</summary>
    private static async Task<Ledger> ReadFromElsewhereAsync(NodeProcess node, string keyId, string? notOn)
    {
        var deadline = DateTime.UtcNow + Settle;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await ReadAsync(node, keyId) is { } ledger && ledger.Owner != notOn)
                {
                    return ledger;
                }
                last = "the ledger has not moved yet";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"ledger {keyId} did not answer from a node other than {notOn} within {Settle.TotalSeconds:0} s: {last}");
    }

    private static async Task<ActivationResult> ActivateAsync(NodeProcess node, string product)
    {
        await using var connection = await node.OpenConnectionAsync();
        return await connection.ActivateAsync(Requests.For(product), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_ledger_holds_its_limit_across_nodes_and_keeps_every_host_when_its_owner_dies_and_comes_back()
    {
        await using var database = await PostgresServer.StartAsync();
        using var keys = new TempDirectory();
        // An Office key that may activate two hosts, from the demo authority (its private key is published).
        var twoHosts = Path.Combine(keys.Path, "two-hosts.hostkey.json");
        using (var authority = LicensingAuthority.Load(DemoLicence.Directory))
        {
            File.WriteAllText(twoHosts, authority.Issue(TwoHostKeyId, "Office LTSC 2024 volume licence", "Contoso",
                DateTimeOffset.UtcNow, maxHosts: 2).ToJson());
        }
        // Each node starts once the one before serves, i.e. once the ledger has answered it: node0 and node1 take
        // the two places of the Office key, node2 is refused.
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3, null,
            "--authority-key", DemoLicence.AuthorityPublicKey, "--host-key", DemoLicence.WindowsKey, "--host-key", twoHosts);
        await cluster.RunAsync(async () =>
        {
            var hostIds = cluster.Nodes.Select(n => n!.HostId).ToArray();
            var windows = (await ReadAsync(cluster.Nodes[2]!, DemoLicence.WindowsKeyId))!;
            Assert.Equal(hostIds, windows.Hosts.Select(h => h.HostId));
            Assert.All(windows.Hosts, h => Assert.Equal(0, h.Reactivations));

            var office = (await ReadAsync(cluster.Nodes[2]!, TwoHostKeyId))!;
            Assert.Equal(hostIds[..2], office.Hosts.Select(h => h.HostId));
            Assert.Equal(("refused", "host-limit-reached"), (office.Status, office.Problem));
            Assert.Equal("active", (await ReadAsync(cluster.Nodes[0]!, TwoHostKeyId))!.Status);
            var refused = await ActivateAsync(cluster.Nodes[2]!, "office-ltsc-2024-standard");
            Assert.True(refused.IsError);
            Assert.Equal(ErrorCode.NoHostKey, refused.Error.Code);
            Assert.Contains("activated its limit of 2 hosts", refused.Error.Message);
            Assert.False((await ActivateAsync(cluster.Nodes[0]!, "office-ltsc-2024-standard")).IsError);
            Assert.False((await ActivateAsync(cluster.Nodes[2]!, "windows-11-pro")).IsError);

            // Kill the node the Windows key's ledger runs on: a survivor takes it over from the journal.
            var victim = cluster.IndexOf(windows.Owner!);
            var survivor = cluster.Nodes[(victim + 1) % 3]!;
            cluster.Nodes[victim]!.Kill();
            var moved = await ReadFromElsewhereAsync(survivor, DemoLicence.WindowsKeyId, windows.Owner);
            Assert.Equal(windows.Hosts, moved.Hosts);
            Assert.Equal(office.Hosts, (await ReadFromElsewhereAsync(survivor, TwoHostKeyId, notOn: null)).Hosts);

            // The dead node comes back on its data directory: a restart, not a re-activation; nothing changes.
            var restarted = await cluster.StartNodeAsync(victim);
            Assert.Equal(hostIds[victim], restarted.HostId);
            var after = (await ReadAsync(restarted, DemoLicence.WindowsKeyId))!;
            Assert.Equal(windows.Hosts, after.Hosts);
            Assert.Equal("active", after.Status);
            var officeAfter = (await ReadAsync(restarted, TwoHostKeyId))!;
            Assert.Equal(office.Hosts, officeAfter.Hosts);
            Assert.Equal(victim == 2 ? "refused" : "active", officeAfter.Status);
        });
    }
}
