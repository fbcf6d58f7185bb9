using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Licensing;

/// <summary>
/// A host key (the KMS model's CSVLK): a document a licensing authority signs that lets a host serve the
/// activations of one key group. The signature covers <see cref="CanonicalBytes"/>, never the JSON text, so
/// whitespace or field order in the file do not matter. Layout and canonical form: docs/licensing.md.
/// </summary>
/// <param name="KeyId">The key's id, lower-case letters, digits and '-', at most 64 characters; names its ledger.</param>
/// <param name="Group">The catalogue's key group the key belongs to.</param>
/// <param name="Organisation">Whom the key was issued to.</param>
/// <param name="IssuedAt">Whole seconds, UTC.</param>
/// <param name="ExpiresAt">Whole seconds, UTC; null: never.</param>
/// <param name="MaxHosts">The authority's exception to the 6-host limit; null: the model's 6.</param>
/// <param name="Authority">Fingerprint of the authority's public key (<see cref="TrustedAuthority.Fingerprint"/>).</param>
/// <param name="Signature">ECDSA P-256 with SHA-256 over <see cref="CanonicalBytes"/>, IEEE P1363 form (r ‖ s, 64 bytes).</param>
public sealed record HostKey(
    string KeyId,
    string Group,
    string Organisation,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ExpiresAt,
    int? MaxHosts,
    string Authority,
    byte[] Signature)
{
    /// <summary>The value of the document's <c>format</c> field and the first line of the canonical form.</summary>
    public const string Format = "kmscluster-host-key/1";

    /// <summary>Hosts one key may activate unless the key carries an exception (the KMS model's 6).</summary>
    public const int DefaultMaxHosts = 6;

    /// <summary>Re-activations of one host with the same key (the KMS model's 9); the 10th is refused.</summary>
    public const int MaxReactivations = 9;

    /// <summary>Largest host-count exception a key may carry.</summary>
    public const int MaxHostsLimit = 100_000;

    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    /// <summary>How many hosts the key may activate: its exception, or 6.</summary>
    public int HostLimit => MaxHosts ?? DefaultMaxHosts;

    /// <summary>
    /// The bytes the signature covers: UTF-8 of eight lines joined by a line feed (no final one):
    /// <c>kmscluster-host-key/1</c>, then <c>keyId:</c>, <c>group:</c>, <c>organisation:</c>, <c>issuedAt:</c>,
    /// <c>expiresAt:</c>, <c>maxHosts:</c>, <c>authority:</c> each followed by its value (times as
    /// yyyy-MM-ddTHH:mm:ssZ, maxHosts in decimal, absent values empty). No value may hold a control character,
    /// so no value can fake a line.
    /// </summary>
    public byte[] CanonicalBytes()
    {
        var text = string.Join('\n',
            Format,
            "keyId:" + KeyId,
            "group:" + Group,
            "organisation:" + Organisation,
            "issuedAt:" + FormatTime(IssuedAt),
            "expiresAt:" + (ExpiresAt is { } expires ? FormatTime(expires) : ""),
            "maxHosts:" + (MaxHosts?.ToString(CultureInfo.InvariantCulture) ?? ""),
            "authority:" + Authority);
        return Encoding.UTF8.GetBytes(text);
    }

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>The JSON document of this key (camelCase, indented; absent optional fields left out).</summary>
    public string ToJson() => JsonSerializer.Serialize(new HostKeyDocument
    {
        Format = Format,
        KeyId = KeyId,
        Group = Group,
        Organisation = Organisation,
        IssuedAt = FormatTime(IssuedAt),
        ExpiresAt = ExpiresAt is { } expires ? FormatTime(expires) : null,
        MaxHosts = MaxHosts,
        Authority = Authority,
        Signature = Convert.ToBase64String(Signature),
    }, WriteContext.HostKeyDocument) + "\n";

    // Base64 signatures hold '+' and '/': write them as they are, not as \u002B escapes.
    private static readonly HostKeyJsonContext WriteContext = new(new JsonSerializerOptions(HostKeyJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Reads a host key file; <see cref="HostKeyFormatException"/> says what is wrong with it.</summary>
    public static HostKey Load(string path) =>
        Parse(LicensingFiles.ReadText(path, "the host key", message => new HostKeyFormatException(message)), path);

    /// <summary>Parses a host key document and checks every field's form (not its signature).</summary>
    public static HostKey Parse(string json, string source)
    {
        HostKeyDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, HostKeyJsonContext.Default.HostKeyDocument);
        }
        catch (JsonException e)
        {
            throw new HostKeyFormatException($"{source}: not a host key document: {e.Message}");
        }
        if (document is null)
        {
            throw new HostKeyFormatException($"{source}: not a host key document (empty)");
        }
        if (document.Format != Format)
        {
            throw new HostKeyFormatException($"{source}: format \"{document.Format}\" is not {Format}");
        }
        var keyId = Required(document.KeyId, source, "keyId");
        if (!IsValidKeyId(keyId))
        {
            throw new HostKeyFormatException($"{source}: keyId \"{keyId}\" may hold only a-z, 0-9 and '-' (1 to 64 characters)");
        }
        var group = Text(document.Group, source, "group");
        var organisation = Text(document.Organisation, source, "organisation");
        var issuedAt = Time(Required(document.IssuedAt, source, "issuedAt"), source, "issuedAt");
        DateTimeOffset? expiresAt = document.ExpiresAt is { } expiresText ? Time(expiresText, source, "expiresAt") : null;
        if (expiresAt <= issuedAt)
        {
            throw new HostKeyFormatException($"{source}: expiresAt {document.ExpiresAt} is not after issuedAt {document.IssuedAt}");
        }
        if (document.MaxHosts is { } maxHosts && (maxHosts < 1 || maxHosts > MaxHostsLimit))
        {
            throw new HostKeyFormatException($"{source}: maxHosts {maxHosts} is not from 1 to {MaxHostsLimit}");
        }
        var authority = Required(document.Authority, source, "authority");
        if (authority.Length != 32 || !authority.All(char.IsAsciiHexDigitLower))
        {
            throw new HostKeyFormatException($"{source}: authority \"{authority}\" is not a key fingerprint (32 lower-case hex digits)");
        }
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(Required(document.Signature, source, "signature"));
        }
        catch (FormatException)
        {
            throw new HostKeyFormatException($"{source}: signature is not base64");
        }
        return new HostKey(keyId, group, organisation, issuedAt, expiresAt, document.MaxHosts, authority, signature);
    }

    public static bool IsValidKeyId(string keyId) =>
        keyId.Length is >= 1 and <= 64 && keyId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>A group or organisation: 1 to 200 characters, no control characters.</summary>
    public static bool IsValidText(string text) => text.Trim().Length is >= 1 and <= 200 && !text.Any(char.IsControl);

    private static string Required(string? value, string source, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new HostKeyFormatException($"{source}: {field} is missing") : value;

    private static string Text(string? value, string source, string field)
    {
        var text = Required(value, source, field);
        return IsValidText(text) && text == text.Trim()
            ? text
            : throw new HostKeyFormatException($"{source}: {field} must be 1 to 200 characters without control characters or surrounding spaces");
    }

    // Stryker disable once Bitwise : the format's 'Z' makes the parser read UTC whatever the styles (checked with TZ=Asia/Tokyo)
    private static DateTimeOffset Time(string text, string source, string field) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new HostKeyFormatException($"{source}: {field} \"{text}\" is not a UTC time as yyyy-MM-ddTHH:mm:ssZ");
}

/// <summary>A host key file is unreadable or not a well-formed host key; the message says what is wrong.</summary>
public sealed class HostKeyFormatException(string message) : Exception(message);

internal sealed class HostKeyDocument
{
    public string? Format { get; set; }
    public string? KeyId { get; set; }
    public string? Group { get; set; }
    public string? Organisation { get; set; }
    public string? IssuedAt { get; set; }
    public string? ExpiresAt { get; set; }
    public int? MaxHosts { get; set; }
    public string? Authority { get; set; }
    public string? Signature { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(HostKeyDocument))]
internal sealed partial class HostKeyJsonContext : JsonSerializerContext;
