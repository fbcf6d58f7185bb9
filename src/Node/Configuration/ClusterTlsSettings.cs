using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KmsCluster.Node.Configuration;

/// <summary>
/// TLS between cluster members (--cluster-tls-cert, --cluster-tls-ca): this node's certificate with its private key,
/// and the CA(s) whose certificates members must present. Read and checked at start-up: a file that cannot be
/// read, a certificate without its key, or one the CA did not issue stops the node with a one-line reason.
/// </summary>
public sealed record ClusterTlsSettings(X509Certificate2 Certificate, X509Certificate2Collection Authorities,
    string CertificateFile, string AuthorityFile)
{
    internal static ClusterTlsSettings? Read(NodeSettings settings)
    {
        var certificateFile = settings.One(SecurityFlags.ClusterTlsCert).Trim();
        var authorityFile = settings.One(SecurityFlags.ClusterTlsCa).Trim();
        if (certificateFile.Length == 0 && authorityFile.Length == 0)
        {
            return null;
        }
        if (certificateFile.Length == 0 || authorityFile.Length == 0)
        {
            throw new NodeOptionsException(
                $"{SecurityFlags.ClusterTlsCert.Flag} and {SecurityFlags.ClusterTlsCa.Flag} go together: a member presents its certificate and checks its peers' against the CA");
        }
        certificateFile = Path.GetFullPath(certificateFile);
        authorityFile = Path.GetFullPath(authorityFile);
        var certificate = LoadCertificate(certificateFile);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(authorityFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new NodeOptionsException($"{SecurityFlags.ClusterTlsCa.Flag}: cannot read {authorityFile}: {e.Message}");
        }
        if (authorities.Count == 0)
        {
            throw new NodeOptionsException($"{SecurityFlags.ClusterTlsCa.Flag}: {authorityFile} holds no PEM certificate");
        }
        var tls = new ClusterTlsSettings(certificate, authorities, certificateFile, authorityFile);
        // A node whose own certificate its CA did not issue would be refused by every peer: say so now.
        if (tls.Problem(certificate, null) is { } problem)
        {
            throw new NodeOptionsException(
                $"{SecurityFlags.ClusterTlsCert.Flag}: {certificateFile} is not accepted by {SecurityFlags.ClusterTlsCa.Flag} {authorityFile}: {problem}");
        }
        return tls;
    }

    /// <summary>Null when <paramref name="peer"/> chains to one of <see cref="Authorities"/> (and only to them:
    /// the system's roots are not trusted here) and is valid now; else why not.</summary>
    /// <param name="presented">The chain the peer sent, for its intermediate certificates; may be null.</param>
    public string? Problem(X509Certificate2? peer, X509Chain? presented)
    {
        if (peer is null)
        {
            return "no certificate presented";
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        // No CRL or OCSP infrastructure is assumed: revocation is not checked (README: rotate the CA instead).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var element in presented?.ChainElements ?? Enumerable.Empty<X509ChainElement>())
        {
            chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        if (chain.Build(peer))
        {
            return null;
        }
        return string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain not valid"));
    }

    private static X509Certificate2 LoadCertificate(string file)
    {
        X509Certificate2 certificate;
        try
        {
            // PEM (certificate and private key in one file) or PKCS#12 without a password.
            if (File.ReadAllText(file).Contains("-----BEGIN", StringComparison.Ordinal))
            {
                // A PEM key is ephemeral; TLS stacks want the certificate with a key they can hold on to.
                using var pem = X509Certificate2.CreateFromPemFile(file);
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(file, null);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new NodeOptionsException($"{SecurityFlags.ClusterTlsCert.Flag}: cannot read a certificate with its private key from {file}: {e.Message}");
        }
        if (!certificate.HasPrivateKey)
        {
            throw new NodeOptionsException($"{SecurityFlags.ClusterTlsCert.Flag}: {file} has no private key (PEM: put the key's block after the certificate)");
        }
        return certificate;
    }
}
