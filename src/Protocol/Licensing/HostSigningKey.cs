using System.Security.Cryptography;

namespace KmsCluster.Protocol.Licensing;

/// <summary>
/// A host's own key pair, made by the node on first start and kept in its data directory (PKCS#8 PEM, readable
/// by its owner only). The authority certifies its public half (<see cref="HostCertificate"/>); the node signs
/// activation requests and its answers with the private half. ECDSA P-256 with SHA-256, as the authority's.
/// </summary>
public sealed class HostSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private HostSigningKey(ECDsa key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>SubjectPublicKeyInfo DER, as certificates and requests carry it.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Loads the key at <paramref name="path"/>, or makes one there (owner-only) when there is none.</summary>
    /// <exception cref="LicensingException">the file cannot be read, written or is not a P-256 private key.</exception>
    public static HostSigningKey LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var writer = new StreamWriter(path, options);
            writer.Write(key.ExportPkcs8PrivateKeyPem());
            writer.Write('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Stryker disable once Statement : disposing a key on the error path frees memory early; nothing a caller sees changes
            key.Dispose();
            throw new LicensingException($"{path}: cannot write the host's signing key: {e.Message}");
        }
        return new HostSigningKey(key);
    }

    /// <summary>An in-memory key (tests, benchmarks).</summary>
    public static HostSigningKey CreateEphemeral() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    private static HostSigningKey Load(string path) => new(LicensingFiles.ReadPrivateKey(path, "the host's signing key"));

    /// <summary>Signs <paramref name="data"/> (64 bytes, IEEE P1363).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) =>
        _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>A request to the authority for <paramref name="key"/>, signed by this key.</summary>
    public HostActivationRequest Request(HostKey key, Guid hostId, string hostName, DateTimeOffset now, bool reactivation)
    {
        var unsigned = new HostActivationRequest(key, hostId, hostName, PublicKey,
            new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero), reactivation, []);
        return unsigned with { Signature = Sign(unsigned.CanonicalBytes()) };
    }

    /// <summary>True when <paramref name="signature"/> is the signature of <paramref name="publicKey"/>'s holder
    /// over <paramref name="data"/>; false for a malformed key or signature.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64) return false;
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
            return key.KeySize == 256 && key.VerifyData(data, signature, HashAlgorithmName.SHA256,
                DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public void Dispose() => _key.Dispose();
}
