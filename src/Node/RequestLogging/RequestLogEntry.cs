using System.Net;
using System.Text.Json;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.RequestLogging;

/// <summary>
/// One line of the request log: what a KMS host's event 12290 records of a request (CMID, workstation, product,
/// licence state, minutes left, count, VM, time, result), and the answer or refusal. Built on the activation path
/// from values it already holds; turned into JSON only by the writer. docs/request-log.schema.json describes the line.
/// </summary>
public sealed class RequestLogEntry
{
    public required DateTimeOffset Time { get; init; }
    public required byte ProtocolVersion { get; init; }

    /// <summary>The decoded request; null when the frame itself was refused (nothing of it could be read).</summary>
    public ActivationRequest? Request { get; init; }

    /// <summary>The product in this host's catalogue; null when unknown or not decoded.</summary>
    public Product? Product { get; init; }

    public int? Count { get; init; }
    public bool? Activated { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }

    /// <summary>Set on a refusal: the error the client got.</summary>
    public ErrorCode? Error { get; init; }
    public string? Message { get; init; }

    public EndPoint? Remote { get; init; }

    /// <summary>The JSON field names, in the order written; the schema and README list the same.</summary>
    public static readonly IReadOnlyList<string> Fields =
    [
        "time", "node", "protocolVersion", "remote", "cmid", "workstation", "application", "applicationId", "product",
        "productId", "licenseState", "minutesLeft", "requiredCount", "vm", "clientTime", "count", "threshold",
        "activated", "validUntil", "error", "errorCode", "message",
    ];

    /// <summary>Writes the entry as one JSON object; every field is present, null when it does not apply.</summary>
    public void WriteTo(Utf8JsonWriter json, string node)
    {
        json.WriteStartObject();
        json.WriteString("time", Time.UtcDateTime);
        json.WriteString("node", node);
        json.WriteNumber("protocolVersion", ProtocolVersion);
        WriteOrNull(json, "remote", Remote?.ToString());
        if (Request is { } request)
        {
            json.WriteString("cmid", request.ClientMachineId);
            json.WriteString("workstation", request.Workstation);
            WriteOrNull(json, "application", Product?.Application.Slug);
            json.WriteString("applicationId", request.ApplicationId);
            WriteOrNull(json, "product", Product?.Slug);
            json.WriteString("productId", request.ProductId);
            json.WriteString("licenseState", request.LicenseState.Name());
            json.WriteNumber("minutesLeft", request.MinutesLeft);
            json.WriteNumber("requiredCount", request.RequiredCount);
            json.WriteBoolean("vm", request.IsVirtualMachine);
            json.WriteString("clientTime", request.ClientTime.UtcDateTime);
        }
        else
        {
            foreach (var name in (ReadOnlySpan<string>)["cmid", "workstation", "application", "applicationId", "product", "productId",
                         "licenseState", "minutesLeft", "requiredCount", "vm", "clientTime"])
            {
                json.WriteNull(name);
            }
        }
        WriteOrNull(json, "count", Count);
        WriteOrNull(json, "threshold", Product?.Threshold);
        if (Activated is { } activated) json.WriteBoolean("activated", activated);
        else json.WriteNull("activated");
        if (ValidUntil is { } validUntil) json.WriteString("validUntil", validUntil.UtcDateTime);
        else json.WriteNull("validUntil");
        WriteOrNull(json, "error", Error?.Name());
        WriteOrNull(json, "errorCode", Error is { } code ? (int)code : null);
        WriteOrNull(json, "message", Message);
        json.WriteEndObject();
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } number) json.WriteNumber(name, number);
        else json.WriteNull(name);
    }
}
