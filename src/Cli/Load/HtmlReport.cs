using System.Globalization;
using System.Net;
using System.Text;

namespace KmsCluster.Cli.Load;

/// <summary>A self-contained HTML page of a run: the summary and two inline SVG charts (throughput and p50/p99
/// latency per second). No script, no external resource.</summary>
public static class HtmlReport
{
    private const int Width = 860;
    private const int Height = 260;
    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 32;
    private const int Bottom = 36;

    public static string Render(LoadResult result)
    {
        var d = LoadReport.Document(result);
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>kms load report</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; margin-bottom: 1.5em; }
            td, th { padding: 2px 12px 2px 0; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            svg { display: block; margin-bottom: 1.5em; }
            .axis { stroke: #999; stroke-width: 1; }
            .grid { stroke: #eee; stroke-width: 1; }
            text { font-size: 11px; fill: #555; }
            </style>
            </head>
            <body>
            """);
        html.Append(Inv($"<h1>kms load: {d.Mode} mode</h1>\n"));
        html.Append("<table>\n");
        Row(html, "servers", string.Join(", ", d.Servers));
        Row(html, "connections x pipeline", d.Connects is null
            ? Inv($"{d.Connections} x {d.Pipeline}")
            : Inv($"{d.Connections} workers, a new connection per request"));
        Row(html, "rate", d.Rate is { } rate ? Inv($"{rate} requests/s") : "none (closed loop)");
        Row(html, "clients", Inv($"{d.Clients}"));
        Row(html, "duration", Inv($"{d.DurationSeconds} s"));
        Row(html, "responses", Inv($"{d.Responses} ({d.Answers} answers)"));
        Row(html, "throughput", Inv($"{d.Throughput} answers/s"));
        Row(html, "activated / not activated", Inv($"{d.Activated} / {d.NotActivated}"));
        Row(html, "errors", LoadReport.Errors(d.Errors));
        Row(html, "latency (ms)", Latency(d.LatencyMs));
        if (d.Connects is { } c)
        {
            Row(html, "connections", Inv($"{c.Opened} opened, {c.PerSecond} per second"));
            Row(html, "connect errors", LoadReport.Errors(c.Errors));
            Row(html, "connect latency (ms)", Latency(c.LatencyMs));
        }
        if (d.Fleet is { } f)
        {
            Row(html, "machines", Inv($"{f.Machines}: {f.ActivatedMachines} activated, {f.NotActivatedMachines} not activated, {f.Failovers} failovers"));
        }
        html.Append("</table>\n");

        var seconds = d.Timeline.Select(t => (double)t.Second).ToArray();
        html.Append("<h2>Throughput per second</h2>\n");
        Chart(html, "responses and errors per second", "per s", seconds,
        [
            ("responses", "#1f77b4", d.Timeline.Select(t => (double?)t.Responses).ToArray()),
            ("errors", "#d62728", d.Timeline.Select(t => (double?)t.Errors).ToArray()),
        ]);
        html.Append("<h2>Latency per second</h2>\n");
        Chart(html, "p50 and p99 latency per second", "ms", seconds,
        [
            ("p50", "#2ca02c", d.Timeline.Select(t => t.P50Ms).ToArray()),
            ("p99", "#ff7f0e", d.Timeline.Select(t => t.P99Ms).ToArray()),
        ]);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static string Latency(LatencyDocument l) => Inv($"p50 {l.P50}, p90 {l.P90}, p99 {l.P99}, p99.9 {l.P999}, max {l.Max}, mean {l.Mean}");

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(WebUtility.HtmlEncode(name)).Append("</th><td>").Append(WebUtility.HtmlEncode(value)).Append("</td></tr>\n");

    private static void Chart(StringBuilder html, string title, string unit, double[] x, (string Name, string Color, double?[] Values)[] series)
    {
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var maxX = Math.Max(1, x.Length == 0 ? 1 : x.Max());
        var maxY = series.SelectMany(s => s.Values).Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(0).Max();
        maxY = NiceCeiling(maxY);
        double X(double second) => Left + second / maxX * plotWidth;
        double Y(double value) => Top + plotHeight - value / maxY * plotHeight;

        html.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">\n"));
        html.Append("<title>").Append(WebUtility.HtmlEncode(title)).Append("</title>\n");
        for (var i = 0; i <= 4; i++)
        {
            var value = maxY * i / 4;
            var y = Y(value);
            html.Append(Inv($"<line class=\"grid\" x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\"/>\n"));
            html.Append(Inv($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Label(value)}</text>\n"));
        }
        html.Append(Inv($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Width - Right}\" y2=\"{Top + plotHeight}\"/>\n"));
        html.Append(Inv($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\"/>\n"));
        var step = Math.Max(1, (int)Math.Ceiling(maxX / 10));
        for (var second = 0; second <= maxX; second += step)
        {
            html.Append(Inv($"<text x=\"{X(second):0.#}\" y=\"{Top + plotHeight + 14}\" text-anchor=\"middle\">{second}</text>\n"));
        }
        html.Append(Inv($"<text x=\"{Left + plotWidth / 2}\" y=\"{Height - 4}\" text-anchor=\"middle\">second of the run</text>\n"));
        html.Append(Inv($"<text x=\"{Left - 6}\" y=\"{Top - 14}\" text-anchor=\"end\">{WebUtility.HtmlEncode(unit)}</text>\n"));

        var legendX = Left + 24;
        foreach (var (name, color, values) in series)
        {
            // A second without a value (no response: no latency) breaks the line.
            var segment = new List<string>();
            void Flush()
            {
                if (segment.Count == 1)
                {
                    var p = segment[0].Split(',');
                    html.Append(Inv($"<circle cx=\"{p[0]}\" cy=\"{p[1]}\" r=\"2\" fill=\"{color}\"/>\n"));
                }
                else if (segment.Count > 1)
                {
                    html.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(" ", segment)}\"/>\n"));
                }
                segment.Clear();
            }
            for (var i = 0; i < values.Length && i < x.Length; i++)
            {
                if (values[i] is { } v)
                {
                    segment.Add(Inv($"{X(x[i]):0.#},{Y(v):0.#}"));
                }
                else
                {
                    Flush();
                }
            }
            Flush();
            html.Append(Inv($"<rect x=\"{legendX}\" y=\"{Top - 24}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\n"));
            html.Append(Inv($"<text x=\"{legendX + 14}\" y=\"{Top - 15}\">{WebUtility.HtmlEncode(name)}</text>\n"));
            legendX += 90;
        }
        html.Append("</svg>\n");
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var factor in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (factor * magnitude >= value)
            {
                return factor * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static string Label(double value) => value >= 10_000
        ? (value / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k"
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
