using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KmsCluster.Authority.Configuration;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Authority.Commands;

/// <summary>What both commands load before they work, with one-line <see cref="StartupException"/>s.</summary>
public static class CommandSetup
{
    /// <summary>The authority's private key from --keys (a directory `kms keys authority-init` made).</summary>
    public static LicensingAuthority LoadAuthority(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new StartupException($"--keys: {directory} is not a directory (make one with `kms keys authority-init --out {directory}`)");
        }
        try
        {
            return LicensingAuthority.Load(directory);
        }
        catch (LicensingException e)
        {
            throw new StartupException($"--keys: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>The PEM certificate and key of --tls-cert/--tls-key, as Kestrel serves them.</summary>
    public static X509Certificate2 LoadTls(string certificatePath, string keyPath)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // A key imported from PEM is ephemeral; a PKCS#12 round trip gives the TLS stack one it can use everywhere.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new StartupException(
                $"--tls-cert/--tls-key: cannot use {certificatePath} with {keyPath}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }
}
