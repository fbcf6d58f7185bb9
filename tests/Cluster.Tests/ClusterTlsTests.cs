using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>--cluster-tls-cert/--cluster-tls-ca: members with certificates of the cluster's CA form a cluster and
/// serve; a node with another CA's certificate, or with no TLS at all, never becomes a member.</summary>
public sealed class ClusterTlsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Members_with_the_CAs_certificates_form_a_cluster_and_a_rogue_or_plain_node_is_kept_out()
    {
        await using var database = await PostgresServer.StartAsync();
        using var files = new TempDirectory();
        using var ca = new TestCertificates(files.Path, "kms-cluster-ca");
        using var rogueCa = new TestCertificates(files.Path, "rogue-ca");
        string[] Tls(string certificate, string authority) => ["--cluster-tls-cert", certificate, "--cluster-tls-ca", authority];
        var members = new[] { ca.Issue("node0"), ca.Issue("node1") };

        await using var cluster = await LocalCluster.StartAsync(database, "kms", 2, null, i => Tls(members[i], ca.AuthorityFile));
        // A rogue is kept out one of two ways, whichever handshake check runs first: the members refuse its
        // certificate, or it refuses theirs (a TLS client checks the server's certificate before it sends its own)
        // and Akka.NET shuts it down on the failed handshake, possibly before it was ready.
        NodeProcess? rogue = null;
        string? rogueExit = null;
        try
        {
            rogue = await NodeProcess.StartBoundAsync(Path.Combine(files.Path, "rogue"),
                ["--name", "rogue", .. cluster.JoinArgs, .. Tls(rogueCa.Issue("rogue"), rogueCa.AuthorityFile)]);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("exited", StringComparison.Ordinal))
        {
            rogueExit = e.Message;
        }
        try
        {
            await using var plain = await NodeProcess.StartBoundAsync(Path.Combine(files.Path, "plain"), ["--name", "plain", .. cluster.JoinArgs]);
            await cluster.RunAsync(async () =>
            {
                // Both members are Up and serve over TLS: node1's contact reaches the window wherever it lives.
                await cluster.OwnerIndexAsync("windows", Patience);
                await using (var connection = await cluster.Nodes[1]!.OpenConnectionAsync())
                {
                    Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), Patience)).IsError);
                }

                // The plain node's first bytes are no TLS record, and its association with the seeds failed.
                Assert.True(await AnyOutputAsync(cluster.Running, "not an SSL/TLS record"), cluster.DescribeNodes());
                Assert.True(await plain.WaitForOutputAsync("Association failed with akka.tcp://", Patience), plain.Output);
                if (rogueExit is not null)
                {
                    // It ended on a refused handshake: the members refused its certificate (and its associations
                    // failed), or it refused theirs (Akka.NET then shuts it down: TlsHandshakeFailure).
                    Assert.True(await AnyOutputAsync(cluster.Running, "cluster TLS: refused .*CN=rogue") ||
                                System.Text.RegularExpressions.Regex.IsMatch(rogueExit, "cluster TLS: refused .*CN=node[01]"),
                        cluster.DescribeNodes() + rogueExit);
                }
                else
                {
                    // Refused by the members (who say whose certificate it was) or refusing theirs; never associated.
                    Assert.True(await AnyOutputAsync(cluster.Running, "cluster TLS: refused .*CN=rogue") ||
                                System.Text.RegularExpressions.Regex.IsMatch(rogue!.Output, "cluster TLS: refused .*CN=node[01]"),
                        cluster.DescribeNodes() + rogue!.Output);
                    Assert.True(await rogue.WaitForOutputAsync("Association failed with akka.ssl.tcp://|TLS handshake failed", Patience), rogue.Output);
                }

                var view = await cluster.ClusterViewAsync();
                Assert.Equal(cluster.Running.Select(n => n.ClusterAddress).Order(), view.Members.Select(m => (string?)m.Address).Order());
                foreach (var intruder in new[] { rogue, plain }.OfType<NodeProcess>())
                {
                    Assert.DoesNotContain(view.Members, m => m.Address == intruder.ClusterAddress);
                    if (intruder.HasExited) continue;
                    using var admin = new AdminClient(intruder);
                    var (status, health) = await admin.SendAsync(HttpMethod.Get, "/healthz", Protocol.Admin.AdminJson.Http.HealthJson);
                    Assert.Equal((503, "starting"), (status, health.Status));
                    Assert.NotEqual("Up", health.Member);
                }
            });
        }
        finally
        {
            if (rogue is not null) await rogue.DisposeAsync();
        }
    }

    /// <summary>Waits until one of <paramref name="nodes"/> has logged a line matching <paramref name="pattern"/>.</summary>
    private static async Task<bool> AnyOutputAsync(IReadOnlyList<NodeProcess> nodes, string pattern)
    {
        var regex = new System.Text.RegularExpressions.Regex(pattern);
        var deadline = DateTime.UtcNow + Patience;
        while (!nodes.Any(n => regex.IsMatch(n.Output)))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }
}
