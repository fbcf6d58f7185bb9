using System.Globalization;
using System.Text.RegularExpressions;

namespace KmsCluster.Testing;

/// <summary>One sample of a Prometheus text exposition: name, labels, value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A scrape in the Prometheus text format (version 0.0.4) as samples; comments (# HELP, # TYPE) are skipped.</summary>
public sealed partial class PrometheusText
{
    private PrometheusText(IReadOnlyList<PrometheusSample> samples) => Samples = samples;

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Every sample name in the scrape (histograms as NAME_bucket, NAME_sum, NAME_count).</summary>
    public IReadOnlySet<string> Names => Samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Throws on a line that is neither a comment nor a sample: the format is what is under test.</summary>
    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var match = SampleLine().Match(line);
            if (!match.Success)
            {
                throw new FormatException($"not a Prometheus sample line: {line}");
            }
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);
            var valueText = match.Groups["value"].Value;
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(match.Groups["name"].Value, labels, value));
        }
        return new PrometheusText(samples);
    }

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/>; throws when
    /// there is none or more than one.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var found = Samples.Where(s => s.Name == name &&
            labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).ToArray();
        return found.Length == 1
            ? found[0].Value
            : throw new InvalidOperationException(
                $"{found.Length} samples of {name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}} in the scrape");
    }

    /// <summary>Every sample of <paramref name="name"/>.</summary>
    public IEnumerable<PrometheusSample> All(string name) => Samples.Where(s => s.Name == name);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)""")]
    private static partial Regex LabelPair();
}
