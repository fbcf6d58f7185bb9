using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Admin;

/// <summary>
/// The one serializer context of the admin HTTP API: the node writes its answers with it, the kms CLI and the
/// tests read them with it, so both ends share one shape. Use <see cref="Http"/>: Web defaults as ASP.NET Core
/// writes them (camelCase names, nulls written except <see cref="HealthJson.Dns"/>, ISO 8601 dates, dictionary
/// keys as they are, <c>"</c> and non-ASCII characters unescaped).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HealthJson))]
[JsonSerializable(typeof(WindowJson))]
[JsonSerializable(typeof(WindowsJson))]
[JsonSerializable(typeof(ClusterJson))]
[JsonSerializable(typeof(StatsJson))]
[JsonSerializable(typeof(NodeJson))]
[JsonSerializable(typeof(ActivityJson))]
[JsonSerializable(typeof(HostJson))]
[JsonSerializable(typeof(IReadOnlyList<HostKeyLedgerJson>))]
[JsonSerializable(typeof(ReactivationJson))]
[JsonSerializable(typeof(HostCertificateJson))]
[JsonSerializable(typeof(DnsStatusJson))]
[JsonSerializable(typeof(ErrorJson))]
[JsonSerializable(typeof(ClientsPageJson))]
[JsonSerializable(typeof(ClientMachineJson))]
public sealed partial class AdminJson : JsonSerializerContext
{
    /// <summary>
    /// The context with ASP.NET Core's encoder for HTTP answers (<see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>:
    /// the JSON goes to HTTP clients, never into an HTML page), so a body is what the API wrote before these types.
    /// </summary>
    // Built on first use: the generated Default may not be initialised yet when this class's statics are.
    public static AdminJson Http => _http ??= new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static AdminJson? _http;
}
