using System.Text;
using System.Text.Json;

namespace KmsCluster.Protocol.Licensing;

/// <summary>
/// What the licensing authority answers when it activates a host key for one host: it certifies that the host
/// <see cref="HostId"/>, holding the private half of <see cref="HostPublicKey"/>, may serve the key group
/// <see cref="Group"/> until <see cref="ExpiresAt"/>. Clients check a signed answer against it, and it against
/// the authority key they trust. The signature covers <see cref="CanonicalBytes"/>; layout: docs/licensing.md.
/// </summary>
/// <param name="KeyId">The host key the authority activated.</param>
/// <param name="Group">The host key's group: the products this host may activate.</param>
/// <param name="Organisation">Whom the host key was issued to.</param>
/// <param name="HostId">The node's host id (its data directory's node-id).</param>
/// <param name="HostPublicKey">The host's ECDSA P-256 public key, SubjectPublicKeyInfo DER.</param>
/// <param name="IssuedAt">Whole seconds, UTC.</param>
/// <param name="ExpiresAt">Whole seconds, UTC; never later than the host key's own expiry.</param>
/// <param name="Authority">Fingerprint of the authority key that signed it.</param>
/// <param name="Signature">ECDSA P-256 with SHA-256 over <see cref="CanonicalBytes"/>, IEEE P1363 (64 bytes).</param>
public sealed record HostCertificate(
    string KeyId,
    string Group,
    string Organisation,
    Guid HostId,
    byte[] HostPublicKey,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    string Authority,
    byte[] Signature)
{
    public const string Format = "kmscluster-host-certificate/1";

    /// <summary>How long a certificate lasts unless its host key expires first (the KMS model's host
    /// activation does not expire; a bounded one lets the authority's answer be renewed, not trusted forever).</summary>
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);

    /// <summary>How far a checker's clock may lag the authority's: the 4 hours the model allows a client.</summary>
    public static readonly TimeSpan ClockTolerance = TimeSpan.FromHours(4);

    /// <summary>UTF-8 of nine lines joined by a line feed (no final one): the format, then <c>keyId:</c>,
    /// <c>group:</c>, <c>organisation:</c>, <c>hostId:</c> (lower-case, with hyphens), <c>hostPublicKey:</c> (base64
    /// of the DER), <c>issuedAt:</c>, <c>expiresAt:</c> (yyyy-MM-ddTHH:mm:ssZ) and <c>authority:</c>, each followed
    /// by its value.</summary>
    public byte[] CanonicalBytes() => Encoding.UTF8.GetBytes(string.Join('\n',
        Format,
        "keyId:" + KeyId,
        "group:" + Group,
        "organisation:" + Organisation,
        "hostId:" + HostId.ToString("D"),
        "hostPublicKey:" + Convert.ToBase64String(HostPublicKey),
        "issuedAt:" + HostKey.FormatTime(IssuedAt),
        "expiresAt:" + HostKey.FormatTime(ExpiresAt),
        "authority:" + Authority));

    /// <summary>What is wrong with this certificate for a client or node that trusts <paramref name="authority"/>
    /// at <paramref name="now"/>; null when it holds.</summary>
    public string? Problem(TrustedAuthority authority, DateTimeOffset now)
    {
        if (Authority != authority.Fingerprint)
        {
            return $"the host certificate is signed by authority {Authority}, not the trusted {authority.Fingerprint}";
        }
        if (!authority.HasSigned(this))
        {
            return "the host certificate's signature is not the authority's (forged or altered)";
        }
        if (now < IssuedAt - ClockTolerance)
        {
            return $"the host certificate is not valid before {HostKey.FormatTime(IssuedAt)}";
        }
        return now >= ExpiresAt ? $"the host certificate expired at {HostKey.FormatTime(ExpiresAt)}" : null;
    }

    /// <summary>The JSON document (camelCase, indented).</summary>
    public string ToJson() => JsonSerializer.Serialize(new HostCertificateDocument
    {
        Format = Format,
        KeyId = KeyId,
        Group = Group,
        Organisation = Organisation,
        HostId = HostId.ToString("D"),
        HostPublicKey = Convert.ToBase64String(HostPublicKey),
        IssuedAt = HostKey.FormatTime(IssuedAt),
        ExpiresAt = HostKey.FormatTime(ExpiresAt),
        Authority = Authority,
        Signature = Convert.ToBase64String(Signature),
    }, LicensingJson.Write.HostCertificateDocument) + "\n";

    /// <summary>Reads a certificate file; <see cref="HostKeyFormatException"/> says what is wrong with it.</summary>
    public static HostCertificate Load(string path) =>
        Parse(LicensingFiles.ReadText(path, "the host certificate", message => new HostKeyFormatException(message)), path);

    /// <summary>Parses a certificate and checks every field's form (not its signature).</summary>
    public static HostCertificate Parse(string json, string source)
    {
        var document = LicensingJson.Read(json, source, "host certificate", LicensingJson.Default.HostCertificateDocument);
        if (document.Format != Format)
        {
            throw new HostKeyFormatException($"{source}: format \"{document.Format}\" is not {Format}");
        }
        var fields = new LicensingFields(source);
        var keyId = fields.KeyId(document.KeyId);
        var issuedAt = fields.Time(document.IssuedAt, "issuedAt");
        var expiresAt = fields.Time(document.ExpiresAt, "expiresAt");
        if (expiresAt <= issuedAt)
        {
            throw new HostKeyFormatException($"{source}: expiresAt {document.ExpiresAt} is not after issuedAt {document.IssuedAt}");
        }
        return new HostCertificate(keyId, fields.Text(document.Group, "group"), fields.Text(document.Organisation, "organisation"),
            fields.HostId(document.HostId), fields.PublicKey(document.HostPublicKey, "hostPublicKey"), issuedAt, expiresAt,
            fields.Fingerprint(document.Authority), fields.Signature(document.Signature));
    }
}

internal sealed class HostCertificateDocument
{
    public string? Format { get; set; }
    public string? KeyId { get; set; }
    public string? Group { get; set; }
    public string? Organisation { get; set; }
    public string? HostId { get; set; }
    public string? HostPublicKey { get; set; }
    public string? IssuedAt { get; set; }
    public string? ExpiresAt { get; set; }
    public string? Authority { get; set; }
    public string? Signature { get; set; }
}
