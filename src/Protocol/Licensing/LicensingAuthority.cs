using System.Security.Cryptography;

namespace KmsCluster.Protocol.Licensing;

/// <summary>
/// A licensing authority's key pair: it issues host keys. A directory holds <c>authority.key</c> (the private key,
/// PKCS#8 PEM, readable by its owner only) and <c>authority.pub</c> (the public key, SubjectPublicKeyInfo PEM,
/// which nodes trust with <c>--authority-key</c>). ECDSA on NIST P-256 with SHA-256, from .NET's own cryptography.
/// </summary>
public sealed class LicensingAuthority : IDisposable
{
    public const string PrivateKeyFile = "authority.key";
    public const string PublicKeyFile = "authority.pub";

    private readonly ECDsa _key;

    private LicensingAuthority(ECDsa key)
    {
        _key = key;
        Public = TrustedAuthority.FromKey(key);
    }

    /// <summary>The public half, as nodes see it.</summary>
    public TrustedAuthority Public { get; }

    /// <summary>Creates a new key pair in <paramref name="directory"/> (created when missing); refuses to replace one.</summary>
    /// <exception cref="LicensingException">the directory already holds a key, or cannot be written.</exception>
    public static LicensingAuthority Create(string directory)
    {
        var privatePath = Path.Combine(directory, PrivateKeyFile);
        var publicPath = Path.Combine(directory, PublicKeyFile);
        if (File.Exists(privatePath) || File.Exists(publicPath))
        {
            throw new LicensingException($"{directory} already holds an authority key; an authority's key is never replaced (pick another directory)");
        }
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            Directory.CreateDirectory(directory);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var writer = new StreamWriter(privatePath, options))
            {
                writer.Write(key.ExportPkcs8PrivateKeyPem());
                writer.Write('\n');
            }
            File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem() + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw new LicensingException($"{directory}: cannot write the authority key: {e.Message}");
        }
        return new LicensingAuthority(key);
    }

    /// <summary>Loads the private key from an authority directory made by <see cref="Create"/>.</summary>
    public static LicensingAuthority Load(string directory)
    {
        return new LicensingAuthority(LicensingFiles.ReadPrivateKey(Path.Combine(directory, PrivateKeyFile), "the authority's private key"));
    }

    /// <summary>Issues and signs a host key.</summary>
    public HostKey Issue(string keyId, string group, string organisation, DateTimeOffset issuedAt,
        DateTimeOffset? expiresAt = null, int? maxHosts = null)
    {
        var unsigned = new HostKey(keyId, group, organisation, WholeSeconds(issuedAt),
            expiresAt is { } expires ? WholeSeconds(expires) : null, maxHosts, Public.Fingerprint, []);
        return unsigned with { Signature = Sign(unsigned.CanonicalBytes()) };
    }

    /// <summary>Certifies that host <paramref name="hostId"/> with <paramref name="hostPublicKey"/> serves
    /// <paramref name="key"/>'s group, from <paramref name="now"/> for <paramref name="validity"/> (default
    /// <see cref="HostCertificate.DefaultValidity"/>) or until the key expires, whichever is first. The caller
    /// (the authority service) has checked the key and the host limits.</summary>
    public HostCertificate Certify(HostKey key, Guid hostId, byte[] hostPublicKey, DateTimeOffset now, TimeSpan? validity = null)
    {
        var issuedAt = WholeSeconds(now);
        var expiresAt = issuedAt + (validity ?? HostCertificate.DefaultValidity);
        if (key.ExpiresAt is { } keyExpires && keyExpires < expiresAt) expiresAt = keyExpires;
        var unsigned = new HostCertificate(key.KeyId, key.Group, key.Organisation, hostId, hostPublicKey, issuedAt,
            expiresAt, Public.Fingerprint, []);
        return unsigned with { Signature = Sign(unsigned.CanonicalBytes()) };
    }

    /// <summary>Signs raw bytes the way host keys are signed (tests use it to sign what a tamperer would).</summary>
    public byte[] Sign(byte[] data) =>
        _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    public void Dispose() => _key.Dispose();
}

/// <summary>An authority's public key that a node trusts (<c>--authority-key</c>).</summary>
public sealed class TrustedAuthority
{
    private readonly ECDsa _key;

    private TrustedAuthority(ECDsa key, string fingerprint, string source)
    {
        _key = key;
        Fingerprint = fingerprint;
        Source = source;
    }

    /// <summary>The first 16 bytes of the SHA-256 of the key's SubjectPublicKeyInfo (DER), in lower-case hex;
    /// a host key names its authority by it.</summary>
    public string Fingerprint { get; }

    /// <summary>Where the key came from (a file path).</summary>
    public string Source { get; }

    internal static TrustedAuthority FromKey(ECDsa privateKey)
    {
        // Stryker disable once Boolean : with the private half too, this key still only verifies and exports its public half; no caller can tell
        var publicKey = ECDsa.Create(privateKey.ExportParameters(false));
        return new TrustedAuthority(publicKey, FingerprintOf(publicKey), "(in memory)");
    }

    /// <summary>Reads an authority's public key (SubjectPublicKeyInfo PEM, as authority.pub holds it).</summary>
    public static TrustedAuthority Load(string path)
    {
        var pem = LicensingFiles.ReadText(path, "the authority key", message => new LicensingException(message));
        if (!pem.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
        {
            throw new LicensingException($"{path}: not a public key (expected a PEM block \"BEGIN PUBLIC KEY\", as authority.pub holds)");
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw new LicensingException($"{path}: not an ECDSA public key: {e.Message}");
        }
        if (key.KeySize != 256)
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw new LicensingException($"{path}: an ECDSA P-256 key is needed, this one has {key.KeySize} bits");
        }
        return new TrustedAuthority(key, FingerprintOf(key), path);
    }

    /// <summary>True when <paramref name="key"/>'s signature is this authority's over its canonical form.</summary>
    public bool HasSigned(HostKey key) =>
        key.Signature.Length == 64 &&
        _key.VerifyData(key.CanonicalBytes(), key.Signature, HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>True when <paramref name="certificate"/>'s signature is this authority's over its canonical form.</summary>
    public bool HasSigned(HostCertificate certificate) =>
        certificate.Signature.Length == 64 &&
        _key.VerifyData(certificate.CanonicalBytes(), certificate.Signature, HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    private static string FingerprintOf(ECDsa key) =>
        Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 16));
}

/// <summary>Reads the licensing files (keys, host keys) with one-line errors that name the file.</summary>
internal static class LicensingFiles
{
    public static string ReadText(string path, string what, Func<string, Exception> error)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"{path}: cannot read {what}: {e.Message}");
        }
    }

    /// <summary>An ECDSA P-256 private key from a PKCS#8 PEM file (an authority's, or a host's own).</summary>
    public static ECDsa ReadPrivateKey(string path, string what)
    {
        var pem = ReadText(path, what, message => new LicensingException(message));
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new LicensingException($"{path}: not an ECDSA P-256 key");
            }
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw new LicensingException($"{path}: not a PKCS#8 PEM private key: {e.Message}");
        }
        catch
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw;
        }
    }
}

/// <summary>An authority key cannot be created, read or used; the message says why.</summary>
public sealed class LicensingException(string message) : Exception(message);
