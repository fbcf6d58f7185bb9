using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>--otlp-traces on a real node: one activation makes a kms.activate span and, under it, the window's
/// kms.window.record and its journal write; off, the collector gets metrics and no span.</summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_activation_the_window_records_is_one_trace_from_request_to_journal()
    {
        await using var collector = await OtlpTraceReceiver.StartAsync();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--otlp-endpoint", collector.Url, "--otlp-traces", "on");
        await using var connection = await node.OpenConnectionAsync();
        var answer = await connection.ActivateAsync(Requests.For("windows-11-pro"), Timeout);
        Assert.False(answer.IsError);

        var spans = await collector.WaitForSpansAsync(s => s.Any(x => x.Name == "kms.journal.persist"), Timeout);
        var activate = Assert.Single(spans, s => s.Name == "kms.activate");
        var record = Assert.Single(spans, s => s.Name == "kms.window.record");
        var persist = Assert.Single(spans, s => s.Name == "kms.journal.persist");

        Assert.Equal(node.HostId, activate.ServiceInstanceId);
        Assert.Equal("kms-node", activate.Resource["service.name"]);
        Assert.Equal(2, activate.Kind); // server
        Assert.Equal("", activate.ParentSpanId);
        Assert.Equal("windows", activate.Attributes["kms.application"]);
        Assert.Equal("windows-11-pro", activate.Attributes["kms.product"]);
        Assert.Equal("not-activated", activate.Attributes["kms.outcome"]); // the first of 25
        Assert.Equal("1", activate.Attributes["kms.count"]);
        Assert.Equal("window", activate.Attributes["kms.answered_by"]);

        Assert.Equal((activate.TraceId, activate.SpanId), (record.TraceId, record.ParentSpanId));
        Assert.Equal(5, record.Kind); // consumer
        Assert.Equal("1", record.Attributes["kms.contacts"]);
        Assert.Equal((record.TraceId, record.SpanId), (persist.TraceId, persist.ParentSpanId));
    }

    [Fact]
    public async Task An_answer_from_a_full_windows_grant_says_so()
    {
        const string office = "office-ltsc-2024-professional-plus"; // threshold 5: the window keeps 10
        await using var collector = await OtlpTraceReceiver.StartAsync();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--otlp-endpoint", collector.Url, "--otlp-traces", "on");
        await using var connection = await node.OpenConnectionAsync();
        using var admin = new AdminClient(node);
        for (var i = 0; i < 10; i++)
        {
            Assert.False((await connection.ActivateAsync(Requests.For(office), Timeout)).IsError);
        }
        while ((await admin.WindowAsync("office")).Grant is null) await Task.Delay(50);

        // The gateway hears of the grant shortly after the admin API shows it: ask until an answer comes from it.
        using var patience = new CancellationTokenSource(Timeout);
        while (!collector.Spans.Any(s => s.Attributes.GetValueOrDefault("kms.answered_by") == "grant"))
        {
            Assert.False((await connection.ActivateAsync(Requests.For(office), Timeout)).IsError);
            await Task.Delay(200, patience.Token);
        }
        var fromGrant = collector.Spans.First(s => s.Attributes.GetValueOrDefault("kms.answered_by") == "grant");
        Assert.Equal("kms.activate", fromGrant.Name);
        Assert.Equal("activated", fromGrant.Attributes["kms.outcome"]);
        Assert.Equal("10", fromGrant.Attributes["kms.count"]);
        Assert.Equal("office", fromGrant.Attributes["kms.application"]);
    }

    [Fact]
    public async Task A_refused_request_has_its_error_code_as_the_outcome()
    {
        await using var collector = await OtlpTraceReceiver.StartAsync();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--otlp-endpoint", collector.Url, "--otlp-traces", "on");
        await using var connection = await node.OpenConnectionAsync();
        var stale = Requests.For("windows-11-pro") with { ClientTime = DateTimeOffset.UtcNow.AddHours(-5) };
        Assert.True((await connection.ActivateAsync(stale, Timeout)).IsError);

        var spans = await collector.WaitForSpansAsync(s => s.Any(x => x.Name == "kms.activate"), Timeout);
        var activate = Assert.Single(spans);
        Assert.Equal("clock-skew", activate.Attributes["kms.outcome"]);
        Assert.Equal("windows-11-pro", activate.Attributes["kms.product"]);
    }

    [Fact]
    public async Task With_traces_off_the_collector_gets_metrics_and_no_span()
    {
        await using var collector = await OtlpTraceReceiver.StartAsync();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--otlp-endpoint", collector.Url, "--otlp-interval", "1s");
        await using var connection = await node.OpenConnectionAsync();
        Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), Timeout)).IsError);

        // A trace exporter would have sent within its 5 s batch delay; the metrics keep coming every second meanwhile.
        var posts = collector.MetricPosts;
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.True(collector.MetricPosts > posts, "metrics are still pushed");
        Assert.Equal(0, collector.TracePosts);
    }
}
