using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>deploy/grafana/kmscluster.json asks only for metrics a real node exports: it cannot drift from the code.</summary>
public sealed partial class GrafanaDashboardTests
{
    private static string DashboardPath([CallerFilePath] string sourceFile = "")
    {
        // As the document tests: the build output, then this source file, then the working directory.
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile), Directory.GetCurrentDirectory() })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KmsCluster.sln")))
                {
                    return Path.Combine(dir.FullName, "deploy", "grafana", "kmscluster.json");
                }
            }
        }
        throw new InvalidOperationException($"no KmsCluster.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void Metric_names_are_read_from_promql_and_not_functions_labels_or_ranges()
    {
        Assert.Equal(["kms_a_bucket"],
            MetricNames("""histogram_quantile(0.99, sum by (le, instance) (rate(kms_a_bucket{instance=~"$instance", type="x"}[$__rate_interval])))"""));
        Assert.Equal(["kms_a_sum", "kms_b_count"],
            MetricNames("sum(rate(kms_a_sum[5m])) / on (instance) sum without (le) (rate(kms_b_count[1e3s])) > 0"));
        Assert.Equal(["kms_requests_received_total"], VariableMetricNames("label_values(kms_requests_received_total, instance)"));
    }

    [Fact]
    public async Task Every_metric_the_dashboard_queries_is_in_a_real_nodes_metrics_after_some_activations()
    {
        var wanted = DashboardMetricNames();
        // The panels the dashboard must have; a broken extraction would find none of these.
        Assert.Superset(new HashSet<string>
        {
            "kms_requests_answered_total", "kms_activation_duration_milliseconds_bucket", "kms_requests_errors_total",
            "kms_window_journal_write_duration_milliseconds_count", "kms_window_contacts_per_event_bucket",
            "kms_cluster_members", "kms_cluster_shards", "kms_grant_answers_total",
        }, wanted);

        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        await using var connection = await node.OpenConnectionAsync();
        // Counters and histograms appear at their first event: activate until the windows application's window is
        // full (50 machines) and answers from its grant, with a refusal each round for the error counter.
        var metrics = await MetricsTests.ScrapeAsync(node);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!patience.IsCancellationRequested && !wanted.IsSubsetOf(metrics.Names))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), TimeSpan.FromSeconds(30))).IsError);
            }
            await connection.ActivateAsync(Requests.For("windows-11-pro") with { ProductId = Guid.NewGuid() }, TimeSpan.FromSeconds(30));
            metrics = await MetricsTests.ScrapeAsync(node);
        }
        Assert.Empty(wanted.Except(metrics.Names).Order());
    }

    /// <summary>The metric names of every panel's queries and of the template variables.</summary>
    private static HashSet<string> DashboardMetricNames()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath()));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets)) continue;
            foreach (var target in targets.EnumerateArray())
            {
                names.UnionWith(MetricNames(target.GetProperty("expr").GetString()!));
            }
        }
        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            names.UnionWith(VariableMetricNames(variable.GetProperty("definition").GetString()!));
        }
        return names;
    }

    /// <summary>The metric names of a PromQL expression: identifiers left once strings, label matchers, ranges,
    /// grouping clauses, function calls and keywords are taken out.</summary>
    internal static string[] MetricNames(string promql)
    {
        var text = StringLiteral().Replace(promql, " ");
        text = LabelMatchers().Replace(text, " ");
        text = RangeOrSubquery().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return Identifier().Matches(text).Select(m => m.Value)
            .Where(name => !Keywords.Contains(name)).Distinct().ToArray();
    }

    /// <summary>label_values(METRIC, LABEL): the metric of a Grafana query variable.</summary>
    internal static string[] VariableMetricNames(string definition) =>
        LabelValues().Match(definition) is { Success: true } match ? [match.Groups[1].Value] : MetricNames(definition);

    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"];

    [GeneratedRegex(""" "(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*' """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    // Atomic, so a function name is not taken for a metric one letter short of its parenthesis.
    [GeneratedRegex(@"(?<![\w.$:])(?>[a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\()")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,")]
    private static partial Regex LabelValues();
}
