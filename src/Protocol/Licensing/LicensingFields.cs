using System.Globalization;
using System.Security.Cryptography;

namespace KmsCluster.Protocol.Licensing;

/// <summary>The form checks every licensing document shares, with one-line errors naming the source.</summary>
internal readonly struct LicensingFields(string source)
{
    public string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new HostKeyFormatException($"{source}: {field} is missing") : value;

    public string KeyId(string? value)
    {
        var keyId = Required(value, "keyId");
        return HostKey.IsValidKeyId(keyId)
            ? keyId
            : throw new HostKeyFormatException($"{source}: keyId \"{keyId}\" may hold only a-z, 0-9 and '-' (1 to 64 characters)");
    }

    public string Text(string? value, string field)
    {
        var text = Required(value, field);
        return HostKey.IsValidText(text) && text == text.Trim()
            ? text
            : throw new HostKeyFormatException($"{source}: {field} must be 1 to 200 characters without control characters or surrounding spaces");
    }

    // Stryker disable once Bitwise : the format's 'Z' makes the parser read UTC whatever the styles (checked with TZ=Asia/Tokyo)
    public DateTimeOffset Time(string? value, string field)
    {
        var text = Required(value, field);
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new HostKeyFormatException($"{source}: {field} \"{text}\" is not a UTC time as yyyy-MM-ddTHH:mm:ssZ");
    }

    public Guid HostId(string? value)
    {
        var text = Required(value, "hostId");
        return Guid.TryParseExact(text, "D", out var id) && text == id.ToString("D")
            ? id
            : throw new HostKeyFormatException($"{source}: hostId \"{text}\" is not a lower-case GUID with hyphens");
    }

    public string Fingerprint(string? value)
    {
        var authority = Required(value, "authority");
        return authority.Length == 32 && authority.All(char.IsAsciiHexDigitLower)
            ? authority
            : throw new HostKeyFormatException($"{source}: authority \"{authority}\" is not a key fingerprint (32 lower-case hex digits)");
    }

    /// <summary>An ECDSA P-256 public key as base64 SubjectPublicKeyInfo DER.</summary>
    public byte[] PublicKey(string? value, string field)
    {
        var bytes = Base64(value, field);
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(bytes, out var read);
            if (read != bytes.Length || key.KeySize != 256)
            {
                throw new HostKeyFormatException($"{source}: {field} is not an ECDSA P-256 public key");
            }
        }
        catch (CryptographicException)
        {
            throw new HostKeyFormatException($"{source}: {field} is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER)");
        }
        return bytes;
    }

    public byte[] Signature(string? value) => Base64(value, "signature");

    private byte[] Base64(string? value, string field)
    {
        try
        {
            return Convert.FromBase64String(Required(value, field));
        }
        catch (FormatException)
        {
            throw new HostKeyFormatException($"{source}: {field} is not base64");
        }
    }
}
