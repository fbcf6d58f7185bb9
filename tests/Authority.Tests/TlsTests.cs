using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KmsCluster.Client.Authority;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>HTTPS with --tls-cert/--tls-key: a self-signed certificate the client pins.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly TestAuthorityKeys _keys = new();
    private readonly TempDirectory _data = new();

    private static X509Certificate2 SelfSigned(string directory, out string certificatePath, out string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kms-authority test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(directory, "tls.crt.pem");
        keyPath = Path.Combine(directory, "tls.key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    [Fact]
    public async Task Over_https_a_client_that_pins_the_certificate_activates_and_one_that_does_not_cannot_reach_the_authority()
    {
        using var certificate = SelfSigned(_data.Path, out var certificatePath, out var keyPath);
        await using var service = await AuthorityProcess.StartAsync(_keys.Directory, Path.Combine(_data.Path, "store"),
            "--tls-cert", certificatePath, "--tls-key", keyPath);
        Assert.Equal("https", service.Url.Scheme);

        var key = _keys.Issue("tls");
        using var host = new TestHost("tls-host");
        using (var pinned = new AuthorityClient(service.Url, AuthorityClient.PinningHandler(certificate)))
        {
            var granted = await pinned.GrantedAsync(host.Request(key), "activated");
            Assert.Null(granted.Certificate.Problem(_keys.Authority.Public, DateTimeOffset.UtcNow));
        }

        using var unpinned = new AuthorityClient(service.Url);
        var failure = await Assert.ThrowsAsync<AuthorityUnreachableException>(() =>
            unpinned.ActivateAsync(host.Request(key), CancellationToken.None));
        Assert.Contains("unreachable", failure.Message);

        using var other = SelfSigned(Directory.CreateDirectory(Path.Combine(_data.Path, "other")).FullName, out _, out _);
        using var wronglyPinned = new AuthorityClient(service.Url, AuthorityClient.PinningHandler(other));
        await Assert.ThrowsAsync<AuthorityUnreachableException>(() => wronglyPinned.ActivateAsync(host.Request(key), CancellationToken.None));
    }

    public void Dispose()
    {
        _keys.Dispose();
        _data.Dispose();
    }
}
