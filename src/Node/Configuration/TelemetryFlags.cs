namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags of metrics export beyond the admin port's /metrics, and of traces (read by
/// <see cref="OtlpExport"/>); part of <see cref="NodeFlags.All"/>.</summary>
public static class TelemetryFlags
{
    public static readonly NodeFlag OtlpEndpoint = new("otlp-endpoint", "URL", "",
        "also push metrics to an OpenTelemetry collector at this base URL (http://collector:4318; with --otlp-protocol grpc, http://collector:4317); without it only /metrics on the admin port serves them");
    public static readonly NodeFlag OtlpProtocol = new("otlp-protocol", "PROTOCOL", "http/protobuf",
        "OTLP transport: http/protobuf (posts to URL/v1/metrics) or grpc");
    public static readonly NodeFlag OtlpInterval = new("otlp-interval", "DURATION", "60s",
        "push metrics this often: seconds, or 500ms, 2m (1s to 1h)");
    public static readonly NodeFlag OtlpTraces = new("otlp-traces", "on|off", "off",
        "also send traces of activations (kms.activate, and kms.window.record on the window's node) to the --otlp-endpoint collector (URL/v1/traces)");
    public static readonly NodeFlag TraceSample = new("trace-sample", "RATIO", "1",
        "with --otlp-traces on: the share of activations traced, 0 to 1 (0.01: one in a hundred); a window's node follows the decision of the node that read the request");

    public static readonly IReadOnlyList<NodeFlag> All = [OtlpEndpoint, OtlpProtocol, OtlpInterval, OtlpTraces, TraceSample];
}

public enum OtlpProtocol
{
    HttpProtobuf,
    Grpc,
}

/// <summary>Where and how often the node pushes its metrics over OTLP (--otlp-endpoint), and its traces if on.</summary>
/// <param name="Endpoint">The URL the exporter sends to, as it sends (for http/protobuf, with /v1/metrics).</param>
public sealed record OtlpExport(Uri Endpoint, OtlpProtocol Protocol, TimeSpan Interval)
{
    /// <summary>Traces to the same collector (--otlp-traces on); null when off.</summary>
    public TraceExport? Traces { get; init; }

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
        var traces = Dns.DnsPublishing.ParseSwitch(settings.One(TelemetryFlags.OtlpTraces), TelemetryFlags.OtlpTraces.Flag);
        var sampleText = settings.One(TelemetryFlags.TraceSample).Trim();
        if (!double.TryParse(sampleText, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture,
                out var sample) || sample is < 0 or > 1)
        {
            throw new NodeOptionsException($"{TelemetryFlags.TraceSample.Flag}: \"{sampleText}\" is not a ratio from 0 to 1 (0.01: one activation in a hundred)");
        }
        if (text.Length == 0)
        {
            return traces
                ? throw new NodeOptionsException(
                    $"{TelemetryFlags.OtlpTraces.Flag} on needs {TelemetryFlags.OtlpEndpoint.Flag} URL: the OpenTelemetry collector the spans go to")
                : null;
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
            return new OtlpExport(url, protocol, interval) { Traces = traces ? new TraceExport(url, sample) : null };
        }
        // Like OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL, with the signal's path appended.
        var root = url.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new OtlpExport(new Uri(root + "/v1/metrics"), protocol, interval)
        {
            Traces = traces ? new TraceExport(new Uri(root + "/v1/traces"), sample) : null,
        };
    }
}

/// <summary>Traces of activations sent over OTLP (--otlp-traces on), with the transport of <see cref="OtlpExport"/>.</summary>
/// <param name="Endpoint">The URL the exporter sends to, as it sends (for http/protobuf, with /v1/traces).</param>
/// <param name="SampleRatio">The share of activations traced (--trace-sample): the node that reads a request decides,
/// the window's node follows its decision.</param>
public sealed record TraceExport(Uri Endpoint, double SampleRatio);
