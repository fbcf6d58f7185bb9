using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KmsCluster.Testing;

/// <summary>One span as an OTLP collector received it, with the resource of the process that sent it.</summary>
/// <param name="TraceId">Lower-case hex, as in a traceparent.</param>
/// <param name="ParentSpanId">Lower-case hex; empty for a root span.</param>
/// <param name="Kind">OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.</param>
public sealed record ReceivedSpan(
    IReadOnlyDictionary<string, string> Resource,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public string? ServiceInstanceId => Resource.GetValueOrDefault("service.instance.id");

    public override string ToString() =>
        $"{Name} kind {Kind} trace {TraceId} span {SpanId} parent {(ParentSpanId.Length == 0 ? "-" : ParentSpanId)} from {ServiceInstanceId} " +
        $"[{string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"))}]";
}

/// <summary>
/// A minimal OTLP/HTTP collector on loopback: takes protobuf posts to /v1/traces and /v1/metrics, answers each with an
/// empty (valid) response, decodes the spans of ExportTraceServiceRequest with a field walker (no OTLP schema in
/// the tests) and counts the metric posts.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private int _tracePosts;
    private int _metricPosts;

    private OtlpTraceReceiver(WebApplication app) => _app = app;

    /// <summary>The base URL to give a node's --otlp-endpoint.</summary>
    public string Url => _app.Urls.Single();

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans.ToArray();

    public int TracePosts => Volatile.Read(ref _tracePosts);

    public int MetricPosts => Volatile.Read(ref _metricPosts);

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            foreach (var span in Decode(await BodyOf(request))) receiver._spans.Enqueue(span);
            Interlocked.Increment(ref receiver._tracePosts);
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            await BodyOf(request);
            Interlocked.Increment(ref receiver._metricPosts);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits until the spans received satisfy <paramref name="done"/>; on timeout, fails with what arrived.</summary>
    public async Task<IReadOnlyCollection<ReceivedSpan>> WaitForSpansAsync(Func<IReadOnlyCollection<ReceivedSpan>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (done(spans)) return spans;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the spans expected did not arrive within {timeout.TotalSeconds:0} s; {TracePosts} trace posts, spans:\n" +
                    string.Join("\n", spans));
            }
            await Task.Delay(100);
        }
    }

    private static async Task<byte[]> BodyOf(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        return body.ToArray();
    }

    /// <summary>ExportTraceServiceRequest: resource_spans = 1 { resource = 1 { attributes = 1 }, scope_spans = 2 { spans = 2 } }.</summary>
    public static IEnumerable<ReceivedSpan> Decode(byte[] export)
    {
        foreach (var resourceSpans in Fields(export).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceSpans.Bytes).ToList();
            var resource = fields.Where(f => f.Number == 1)
                .SelectMany(r => Attributes(Fields(r.Bytes).Where(f => f.Number == 1)))
                .ToDictionary();
            foreach (var scopeSpans in fields.Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                {
                    yield return DecodeSpan(resource, span.Bytes);
                }
            }
        }
    }

    /// <summary>Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6, attributes = 9.</summary>
    private static ReceivedSpan DecodeSpan(IReadOnlyDictionary<string, string> resource, byte[] span)
    {
        var fields = Fields(span).ToList();
        string Hex(int number) => fields.FirstOrDefault(f => f.Number == number) is { Bytes: { } b } ? Convert.ToHexStringLower(b) : "";
        return new ReceivedSpan(resource, Hex(1), Hex(2), Hex(4),
            fields.FirstOrDefault(f => f.Number == 5) is { Bytes: { } name } ? System.Text.Encoding.UTF8.GetString(name) : "",
            (int)(fields.FirstOrDefault(f => f.Number == 6)?.Value ?? 0),
            Attributes(fields.Where(f => f.Number == 9)).ToDictionary());
    }

    /// <summary>KeyValue: key = 1, value = 2 (AnyValue: string = 1, bool = 2, int = 3, double = 4), as text.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Attributes(IEnumerable<Field> keyValues)
    {
        foreach (var keyValue in keyValues)
        {
            var fields = Fields(keyValue.Bytes).ToList();
            var key = System.Text.Encoding.UTF8.GetString(fields.First(f => f.Number == 1).Bytes);
            var value = fields.FirstOrDefault(f => f.Number == 2) is { Bytes: { } any } ? Fields(any).FirstOrDefault() : null;
            yield return new(key, value switch
            {
                { Number: 1, Bytes: { } text } => System.Text.Encoding.UTF8.GetString(text),
                { Number: 2 } => value.Value != 0 ? "true" : "false",
                { Number: 3 } => ((long)value.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                { Number: 4 } => BitConverter.UInt64BitsToDouble(value.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            });
        }
    }

    /// <summary>One protobuf field: a number, and its bytes (length-delimited; else empty) or its value (varint, fixed).</summary>
    private sealed record Field(int Number, byte[] Bytes, ulong Value);

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<Field>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            fields.Add(WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => new Field(number, [], input.ReadUInt64()),
                WireFormat.WireType.Fixed64 => new Field(number, [], input.ReadFixed64()),
                WireFormat.WireType.Fixed32 => new Field(number, [], input.ReadFixed32()),
                WireFormat.WireType.LengthDelimited => new Field(number, input.ReadBytes().ToByteArray(), 0),
                var other => throw new InvalidDataException($"unexpected wire type {other} in field {number}"),
            });
        }
        return fields;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
