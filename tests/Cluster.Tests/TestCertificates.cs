using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KmsCluster.Cluster.Tests;

/// <summary>A throw-away certificate authority that issues member certificates, written as the PEM files kms-node reads.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _authority;
    private readonly string _directory;

    public TestCertificates(string directory, string name)
    {
        _directory = directory;
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        AuthorityFile = Path.Combine(directory, $"{name}.ca.pem");
        File.WriteAllText(AuthorityFile, _authority.ExportCertificatePem());
    }

    /// <summary>The CA's certificate (PEM): what --cluster-tls-ca takes.</summary>
    public string AuthorityFile { get; }

    /// <summary>Issues a member certificate and writes it with its private key to one PEM file (--cluster-tls-cert).</summary>
    public string Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        var sanBuilder = new SubjectAlternativeNameBuilder();
        sanBuilder.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(sanBuilder.Build());
        using var certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddMinutes(-5), _authority.NotAfter.ToUniversalTime().AddMinutes(-1),
            RandomNumberGenerator.GetBytes(16));
        var file = Path.Combine(_directory, $"{name}.pem");
        File.WriteAllText(file, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        return file;
    }

    public void Dispose()
    {
        _authority.Dispose();
        _key.Dispose();
    }
}
