using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Cli.Load;

/// <summary>The <c>--json</c> document of a run (README.md gives the contract).</summary>
public sealed record LoadReportDocument(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("servers")] IReadOnlyList<string> Servers,
    [property: JsonPropertyName("connections")] int Connections,
    [property: JsonPropertyName("pipeline")] int Pipeline,
    [property: JsonPropertyName("rate")] double? Rate,
    [property: JsonPropertyName("clients")] int Clients,
    [property: JsonPropertyName("durationSeconds")] double DurationSeconds,
    [property: JsonPropertyName("warmupSeconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? WarmupSeconds,
    [property: JsonPropertyName("answers")] long Answers,
    [property: JsonPropertyName("responses")] long Responses,
    [property: JsonPropertyName("activated")] long Activated,
    [property: JsonPropertyName("notActivated")] long NotActivated,
    [property: JsonPropertyName("errors")] IReadOnlyDictionary<string, long> Errors,
    [property: JsonPropertyName("throughput")] double Throughput,
    [property: JsonPropertyName("latencyMs")] LatencyDocument LatencyMs,
    [property: JsonPropertyName("timeline")] IReadOnlyList<TimelineDocument> Timeline,
    [property: JsonPropertyName("fleet"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FleetDocument? Fleet,
    [property: JsonPropertyName("connects"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ConnectsDocument? Connects);

public sealed record LatencyDocument(
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p90")] double P90,
    [property: JsonPropertyName("p99")] double P99,
    [property: JsonPropertyName("p999")] double P999,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("mean")] double Mean);

public sealed record TimelineDocument(
    [property: JsonPropertyName("second")] int Second,
    [property: JsonPropertyName("responses")] long Responses,
    [property: JsonPropertyName("errors")] long Errors,
    [property: JsonPropertyName("p50Ms")] double? P50Ms,
    [property: JsonPropertyName("p99Ms")] double? P99Ms);

public sealed record FleetDocument(
    [property: JsonPropertyName("machines")] int Machines,
    [property: JsonPropertyName("activatedMachines")] int ActivatedMachines,
    [property: JsonPropertyName("notActivatedMachines")] int NotActivatedMachines,
    [property: JsonPropertyName("failovers")] long Failovers);

/// <summary>With --connect-per-request: the connections opened, per second, the failures to open one by kind, and
/// how long opening one took.</summary>
public sealed record ConnectsDocument(
    [property: JsonPropertyName("opened")] long Opened,
    [property: JsonPropertyName("perSecond")] double PerSecond,
    [property: JsonPropertyName("errors")] IReadOnlyDictionary<string, long> Errors,
    [property: JsonPropertyName("latencyMs")] LatencyDocument LatencyMs);

/// <summary>Writes a run's report as text, JSON and HTML.</summary>
public static class LoadReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string ModeName(LoadMode mode) => mode switch
    {
        LoadMode.Open => "open",
        LoadMode.Fleet => "fleet",
        _ => "closed",
    };

    public static LoadReportDocument Document(LoadResult result)
    {
        var o = result.Options;
        var s = result.Summary;
        var l = s.Latency;
        return new LoadReportDocument(
            ModeName(o.Mode),
            o.Servers.Select(a => a.ToString()).ToArray(),
            o.Connections,
            o.Pipeline,
            o.Rate,
            o.Clients,
            Math.Round(result.Elapsed.TotalSeconds, 3),
            o.Warmup?.TotalSeconds,
            s.Answers,
            s.Responses,
            s.Activated,
            s.NotActivated,
            s.Errors,
            Math.Round(result.Throughput, 1),
            Latency(l),
            s.Timeline.Select(t => new TimelineDocument(t.Second, t.Responses, t.Errors, t.P50Ms, t.P99Ms)).ToArray(),
            result.Fleet is { } f ? new FleetDocument(f.Machines, f.ActivatedMachines, f.NotActivatedMachines, f.Failovers) : null,
            s.Connects is { } c ? new ConnectsDocument(c.Opened, Math.Round(result.ConnectionsPerSecond, 1), c.Errors, Latency(c.Latency)) : null);
    }

    private static LatencyDocument Latency(LatencySummary l) => new(l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean);

    public static string ToJson(LoadResult result) => JsonSerializer.Serialize(Document(result), Json);

    /// <summary>The human-readable report: a few lines, the same numbers as the JSON.</summary>
    public static void WriteText(TextWriter output, LoadResult result)
    {
        var o = result.Options;
        var s = result.Summary;
        var l = s.Latency;
        var workers = o.ConnectPerRequest
            ? $"{o.Connections} {(o.Mode == LoadMode.Fleet ? "clients" : "workers")} each opening a connection per request"
            : $"{o.Connections} {(o.Mode == LoadMode.Fleet ? "clients" : "connections")} x {o.Pipeline} in flight";
        var shape = o.Mode switch
        {
            LoadMode.Open => $"open loop at {Number(o.Rate ?? 0)} requests/s, {workers}",
            LoadMode.Fleet => $"fleet of {o.Clients} machines, time x{Number(o.TimeScale)}{(o.BootStorm ? ", boot storm" : "")}, {workers}",
            _ => $"closed loop, {workers}",
        };
        var line = Inv($"kms load: {shape}, {o.Clients} CMIDs, servers {string.Join(", ", o.Servers)}");
        output.WriteLine(result.Cancelled ? line + " (stopped early)" : line);
        output.WriteLine(Inv($"  duration     {result.Elapsed.TotalSeconds:0.000} s{(o.Warmup is { } w ? $" after a {w.TotalSeconds:0.###} s warm-up (not reported)" : "")}"));
        output.WriteLine(Inv($"  responses    {s.Responses} ({s.Answers} answers, {s.Responses - s.Answers} error responses)"));
        output.WriteLine(Inv($"  throughput   {result.Throughput:0.0} answers/s"));
        output.WriteLine(Inv($"  answers      {s.Activated} activated, {s.NotActivated} not activated"));
        output.WriteLine("  errors       " + Errors(s.Errors));
        output.WriteLine(Inv($"  latency ms   {Percentiles(l)}"));
        if (s.Connects is { } c)
        {
            output.WriteLine(Inv($"  connections  {c.Opened} opened, {result.ConnectionsPerSecond:0.0}/s; connect errors {Errors(c.Errors)}"));
            output.WriteLine(Inv($"  connect ms   {Percentiles(c.Latency)}"));
        }
        if (result.Fleet is { } f)
        {
            output.WriteLine(Inv($"  machines     {f.ActivatedMachines} activated, {f.NotActivatedMachines} not activated ({f.NeverAsked} not due yet), {f.Failovers} failovers"));
        }
    }

    /// <summary>"none", or each kind and its count: "server-busy 3, no-answer 1".</summary>
    public static string Errors(IReadOnlyDictionary<string, long> errors) =>
        errors.Count == 0 ? "none" : string.Join(", ", errors.Select(e => Inv($"{e.Key} {e.Value}")));

    public static string Percentiles(LatencySummary l) => Inv($"p50 {l.P50}  p90 {l.P90}  p99 {l.P99}  p99.9 {l.P999}  max {l.Max}  mean {l.Mean}");

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
