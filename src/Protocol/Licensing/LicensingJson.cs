using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Licensing;

/// <summary>The JSON of the licensing documents beyond the host key: host certificates and activation requests.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(HostCertificateDocument))]
[JsonSerializable(typeof(HostActivationRequestDocument))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class LicensingJson : JsonSerializerContext
{
    /// <summary>Writes base64 ('+', '/') as it is, not as \u002B escapes.</summary>
    public static LicensingJson Write => LicensingJsonWriter.Context;

    public static T Read<T>(string json, string source, string what, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new HostKeyFormatException($"{source}: not a {what} (empty)");
        }
        catch (JsonException e)
        {
            throw new HostKeyFormatException($"{source}: not a {what}: {e.Message}");
        }
    }
}

internal static class LicensingJsonWriter
{
    public static readonly LicensingJson Context = new(new JsonSerializerOptions(LicensingJson.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
