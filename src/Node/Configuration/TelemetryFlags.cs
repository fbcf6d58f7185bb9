namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags of metrics export beyond the admin port's /metrics (read by <see cref="OtlpExport"/>);
/// part of <see cref="NodeFlags.All"/>.</summary>
public static class TelemetryFlags
{
    public static readonly NodeFlag OtlpEndpoint = new("otlp-endpoint", "URL", "",
        "also push metrics to an OpenTelemetry collector at this base URL (http://collector:4318; with --otlp-protocol grpc, http://collector:4317); without it only /metrics on the admin port serves them");
    public static readonly NodeFlag OtlpProtocol = new("otlp-protocol", "PROTOCOL", "http/protobuf",
        "OTLP transport: http/protobuf (posts to URL/v1/metrics) or grpc");
    public static readonly NodeFlag OtlpInterval = new("otlp-interval", "DURATION", "60s",
        "push metrics this often: seconds, or 500ms, 2m (1s to 1h)");

    public static readonly IReadOnlyList<NodeFlag> All = [OtlpEndpoint, OtlpProtocol, OtlpInterval];
}

public enum OtlpProtocol
{
    HttpProtobuf,
    Grpc,
}

/// <summary>Where and how often the node pushes its metrics over OTLP (--otlp-endpoint).</summary>
/// <param name="Endpoint">The URL the exporter sends to, as it sends (for http/protobuf, with /v1/metrics).</param>
public sealed record OtlpExport(Uri Endpoint, OtlpProtocol Protocol, TimeSpan Interval)
{
    /// <summary>The OTLP settings, or null when --otlp-endpoint is not set.</summary>
    public static OtlpExport? Read(NodeSettings settings)
    {
        var text = settings.One(TelemetryFlags.OtlpEndpoint).Trim();
        var protocol = settings.One(TelemetryFlags.OtlpProtocol).Trim().ToLowerInvariant() switch
        {
            "http/protobuf" or "http" => OtlpProtocol.HttpProtobuf,
            "grpc" => OtlpProtocol.Grpc,
            var other => throw new NodeOptionsException(
                $"{TelemetryFlags.OtlpProtocol.Flag}: \"{other}\" is not one of http/protobuf, grpc"),
        };
        var interval = DurationFlags.Parse(settings.One(TelemetryFlags.OtlpInterval), TelemetryFlags.OtlpInterval.Flag, defaultUnit: "s");
        if (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromHours(1))
        {
            throw new NodeOptionsException(
                $"{TelemetryFlags.OtlpInterval.Flag}: must be between 1s and 1h, got {settings.One(TelemetryFlags.OtlpInterval)}");
        }
        if (text.Length == 0)
        {
            return null;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") ||
            url.Host.Length == 0 || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            throw new NodeOptionsException(
                $"{TelemetryFlags.OtlpEndpoint.Flag}: \"{text}\" is not an http:// or https:// URL without query (example: http://otel-collector:4318)");
        }
        if (protocol == OtlpProtocol.Grpc)
        {
            if (url.AbsolutePath != "/")
            {
                throw new NodeOptionsException(
                    $"{TelemetryFlags.OtlpEndpoint.Flag}: a gRPC endpoint has no path, got \"{text}\" (example: http://otel-collector:4317)");
            }
            return new OtlpExport(url, protocol, interval);
        }
        // Like OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL, with the signal's path appended.
        return new OtlpExport(new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/v1/metrics"), protocol, interval);
    }
}
