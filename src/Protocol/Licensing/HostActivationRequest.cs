using System.Text;
using System.Text.Json;

namespace KmsCluster.Protocol.Licensing;

/// <summary>
/// A host asking the licensing authority to activate a host key for it (online over HTTPS, or as a file carried
/// to the authority: the model's telephone activation). The host signs the request with the private half of
/// <see cref="HostPublicKey"/>, which proves it holds that key: the certificate the authority answers with
/// names that key, and only its holder can sign answers under it. Layout: docs/licensing.md.
/// </summary>
/// <param name="Key">The host key, as its file holds it (the authority checks its own signature on it).</param>
/// <param name="HostId">The node's host id.</param>
/// <param name="HostName">The node's name, for the authority's records.</param>
/// <param name="HostPublicKey">The host's ECDSA P-256 public key, SubjectPublicKeyInfo DER.</param>
/// <param name="RequestedAt">Whole seconds, UTC, by the host's clock.</param>
/// <param name="Reactivation">The host asks again for a key it was activated with (counts against the 9).</param>
/// <param name="Signature">ECDSA P-256 with SHA-256 by the host's key over <see cref="CanonicalBytes"/>, IEEE P1363.</param>
public sealed record HostActivationRequest(
    HostKey Key,
    Guid HostId,
    string HostName,
    byte[] HostPublicKey,
    DateTimeOffset RequestedAt,
    bool Reactivation,
    byte[] Signature)
{
    public const string Format = "kmscluster-host-activation-request/1";

    /// <summary>UTF-8 of eight lines joined by a line feed: the format, <c>hostKey:</c> (base64 of the host key's
    /// own canonical bytes and its signature, joined by a '.'), <c>hostId:</c>, <c>hostName:</c>,
    /// <c>hostPublicKey:</c>, <c>requestedAt:</c>, <c>reactivation:</c> (true or false).</summary>
    public byte[] CanonicalBytes() => Encoding.UTF8.GetBytes(string.Join('\n',
        Format,
        "hostKey:" + Convert.ToBase64String(Key.CanonicalBytes()) + "." + Convert.ToBase64String(Key.Signature),
        "hostId:" + HostId.ToString("D"),
        "hostName:" + HostName,
        "hostPublicKey:" + Convert.ToBase64String(HostPublicKey),
        "requestedAt:" + HostKey.FormatTime(RequestedAt),
        "reactivation:" + (Reactivation ? "true" : "false")));

    /// <summary>True when the request is signed by the key it names (proof of possession).</summary>
    public bool IsSignedByItsHost() => HostSigningKey.Verify(HostPublicKey, CanonicalBytes(), Signature);

    public string ToJson() => JsonSerializer.Serialize(new HostActivationRequestDocument
    {
        Format = Format,
        HostKey = JsonSerializer.Deserialize(Key.ToJson(), LicensingJson.Default.JsonElement),
        HostId = HostId.ToString("D"),
        HostName = HostName,
        HostPublicKey = Convert.ToBase64String(HostPublicKey),
        RequestedAt = HostKey.FormatTime(RequestedAt),
        Reactivation = Reactivation,
        Signature = Convert.ToBase64String(Signature),
    }, LicensingJson.Write.HostActivationRequestDocument) + "\n";

    public static HostActivationRequest Load(string path) =>
        Parse(LicensingFiles.ReadText(path, "the host activation request", message => new HostKeyFormatException(message)), path);

    /// <summary>Parses a request and checks every field's form (not its signatures).</summary>
    public static HostActivationRequest Parse(string json, string source)
    {
        var document = LicensingJson.Read(json, source, "host activation request", LicensingJson.Default.HostActivationRequestDocument);
        if (document.Format != Format)
        {
            throw new HostKeyFormatException($"{source}: format \"{document.Format}\" is not {Format}");
        }
        if (document.HostKey is not { ValueKind: JsonValueKind.Object } hostKey)
        {
            throw new HostKeyFormatException($"{source}: hostKey is missing");
        }
        var fields = new LicensingFields(source);
        return new HostActivationRequest(
            HostKey.Parse(hostKey.GetRawText(), source + " (hostKey)"),
            fields.HostId(document.HostId),
            fields.Text(document.HostName, "hostName"),
            fields.PublicKey(document.HostPublicKey, "hostPublicKey"),
            fields.Time(document.RequestedAt, "requestedAt"),
            document.Reactivation ?? false,
            fields.Signature(document.Signature));
    }
}

internal sealed class HostActivationRequestDocument
{
    public string? Format { get; set; }
    public JsonElement? HostKey { get; set; }
    public string? HostId { get; set; }
    public string? HostName { get; set; }
    public string? HostPublicKey { get; set; }
    public string? RequestedAt { get; set; }
    public bool? Reactivation { get; set; }
    public string? Signature { get; set; }
}
