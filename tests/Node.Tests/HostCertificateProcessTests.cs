using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The offline activation on the real node, the real `kms` and the real `kms-authority answer`: the node's
/// signed request, the authority's certificate installed, refused when it is not this host's, and the certificate in
/// force across a restart.</summary>
public sealed class HostCertificateProcessTests
{
    private const string Group = "Windows Server 2025 volume licence";

    [Fact]
    public async Task A_node_activated_offline_holds_the_authoritys_certificate_and_refuses_any_other()
    {
        using var data = new TempDirectory();
        using var authority = LicensingAuthority.Create(Path.Combine(data.Path, "authority"));
        var authorityKey = Path.Combine(data.Path, "authority", LicensingAuthority.PublicKeyFile);
        var key = authority.Issue("k-offline", Group, "Contoso", DateTimeOffset.UtcNow.AddDays(-1));
        var keyFile = Path.Combine(data.Path, "k-offline.hostkey.json");
        File.WriteAllText(keyFile, key.ToJson());
        var nodeData = Path.Combine(data.Path, "node");
        string[] args = ["--authority-key", authorityKey, "--host-key", keyFile];

        await using (var node = await NodeProcess.StartAsync(nodeData, args))
        {
            var requestFile = Path.Combine(data.Path, "request.json");
            var (exit, stdout, stderr) = await KmsCli.RunAsync("keys", "request", "k-offline", "--out", requestFile, "--admin", node.AdminEndpoint, "--token", node.AdminToken!);
            Assert.True(exit == 0, stderr);
            Assert.Contains("kms keys install", stdout);
            var request = HostActivationRequest.Load(requestFile);
            Assert.True(request.IsSignedByItsHost());
            Assert.Equal((Guid.Parse(node.HostId), "k-offline", false), (request.HostId, request.Key.KeyId, request.Reactivation));
            Assert.Equal(4, (await KmsCli.RunAsync("keys", "request", "no-such-key", "--out", requestFile, "--admin", node.AdminEndpoint, "--token", node.AdminToken!)).ExitCode);

            // Certificates that are not this host's are refused, each with its reason.
            using var thief = HostSigningKey.CreateEphemeral();
            using var stranger = LicensingAuthority.Create(Path.Combine(data.Path, "stranger"));
            var now = DateTimeOffset.UtcNow;
            foreach (var (wrong, reason) in new[]
            {
                (authority.Certify(key, Guid.NewGuid(), request.HostPublicKey, now), "the certificate is for host"),
                (authority.Certify(key, request.HostId, thief.PublicKey, now), "names another public key"),
                (stranger.Certify(key, request.HostId, request.HostPublicKey, now), "which this node does not trust"),
            })
            {
                var refused = await InstallAsync(data, node, wrong);
                Assert.True(refused.ExitCode == 2, refused.StdErr);
                Assert.Contains(reason, refused.StdErr);
            }

            // The licensing authority answers the request file offline (kms-authority answer), and the node takes it.
            var certificateFile = Path.Combine(data.Path, "certificate.json");
            var answered = await AuthorityProcess.RunAsync("answer", requestFile, "--out", certificateFile,
                "--keys", Path.Combine(data.Path, "authority"), "--data", Path.Combine(data.Path, "authority-data"));
            Assert.True(answered.ExitCode == 0, answered.StdErr);
            var installed = await InstallAsync(data, node, HostCertificate.Load(certificateFile));
            Assert.True(installed.ExitCode == 0, installed.StdErr);
            Assert.Contains("host key k-offline: certificate installed", installed.StdOut);
            Assert.Contains("certified by the licensing authority until", await ReasonAsync(node));
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        Assert.True(File.Exists(Path.Combine(nodeData, "host-certificates", "k-offline.json")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(nodeData, "host-signing.key")));
        }
        // After a restart the certificate is the activation: the cluster's ledger is not asked for this key.
        await using (var node = await NodeProcess.StartAsync(nodeData, args))
        {
            Assert.Contains("certified by the licensing authority until", await ReasonAsync(node));
            Assert.DoesNotContain("Host key k-offline: asking the host activation ledger", node.Output);
        }
    }

    [Fact]
    public async Task With_an_authority_key_pair_for_evaluation_a_node_certifies_itself_once_the_ledger_confirms_it()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, [.. DemoLicence.Args, "--authority-keys", DemoLicence.Directory]);
        var trusted = TrustedAuthority.Load(DemoLicence.AuthorityPublicKey);
        using var admin = new AdminClient(node);

        foreach (var keyId in new[] { DemoLicence.WindowsKeyId, DemoLicence.OfficeKeyId })
        {
            var file = Path.Combine(data.Path, "host-certificates", keyId + ".json");
            for (var i = 0; i < 300 && !File.Exists(file); i++) await Task.Delay(100);
            var certificate = HostCertificate.Load(file);
            Assert.Null(certificate.Problem(trusted, DateTimeOffset.UtcNow));
            Assert.Equal(Guid.Parse(node.HostId), certificate.HostId);
        }
        Assert.Equal("licensed", (await admin.HostAsync()).Licence);
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> InstallAsync(TempDirectory data, NodeProcess node, HostCertificate certificate)
    {
        var file = Path.Combine(data.Path, $"certificate-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, certificate.ToJson());
        return await KmsCli.RunAsync("keys", "install", file, "--admin", node.AdminEndpoint, "--token", node.AdminToken!);
    }

    private static async Task<string> ReasonAsync(NodeProcess node)
    {
        using var admin = new AdminClient(node);
        return Assert.Single((await admin.HostAsync()).Keys).Reason;
    }
}
