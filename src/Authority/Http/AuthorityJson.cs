using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Authority.Http;

/// <summary>An error answer: a stable code and one line for people.</summary>
public sealed record ApiError(string Code, string Message);

/// <summary>GET /api/v1/health.</summary>
public sealed record HealthAnswer(string Status, string Authority, string Store, string StoreLocation);

/// <summary>One host of GET /api/v1/host-keys/{keyId}.</summary>
public sealed record RecordedHost(string HostId, string HostName, string FirstActivatedAt, string LastActivatedAt, int Reactivations);

/// <summary>GET /api/v1/host-keys/{keyId}: the hosts the key activated, in the order they first did.</summary>
public sealed record HostKeyRecord(string KeyId, int HostCount, IReadOnlyList<RecordedHost> Hosts);

/// <summary>The --ready-file document: written once the listener is bound.</summary>
public sealed record ReadyDocument(string Url, string Authority, string Store, string StoreLocation, int ProcessId);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HealthAnswer))]
[JsonSerializable(typeof(HostKeyRecord))]
[JsonSerializable(typeof(ReadyDocument))]
internal sealed partial class AuthorityJson : JsonSerializerContext
{
    /// <summary>Messages quote names: write '"' and '+' as they are, not as \u0022 escapes.</summary>
    public static readonly AuthorityJson Relaxed = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
