using System.Net;
using System.Net.Http.Headers;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>/metrics on the admin port of a real node: Prometheus text behind the admin token, whose request counters
/// are the numbers /api/v1/stats shows.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _data = new();
    private NodeProcess _node = null!;

    public async Task InitializeAsync() => _node = await NodeProcess.StartAsync(_data.Path);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>GET /metrics with the node's admin token; asserts a 200 in the Prometheus text format.</summary>
    internal static async Task<PrometheusText> ScrapeAsync(NodeProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.AdminUri, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Authorization", AdminAuth.AuthorizationValue(node.AdminToken!));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /metrics: {(int)response.StatusCode} {body}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("version=0.0.4", response.Content.Headers.ContentType?.ToString());
        return PrometheusText.Parse(body);
    }

    [Fact]
    public async Task Request_counters_equal_the_stats_api_after_activations_and_refusals()
    {
        const int activations = 30;
        const int refused = 4;
        await using var connection = await _node.OpenConnectionAsync();
        for (var i = 0; i < activations; i++)
        {
            var result = await connection.ActivateAsync(Requests.For("windows-11-enterprise"), Answer);
            Assert.False(result.IsError, result.ToString());
        }
        for (var i = 0; i < refused; i++)
        {
            var unknown = Requests.For("windows-11-enterprise") with { ProductId = Guid.NewGuid() };
            Assert.Equal(ErrorCode.UnknownProduct, (await connection.ActivateAsync(unknown, Answer)).Error.Code);
        }

        using var admin = new AdminClient(_node);
        var stats = await admin.StatsAsync();
        var metrics = await ScrapeAsync(_node);

        // What was sent, as the stats API counts it: Windows activates from the 25th machine on.
        Assert.Equal(activations + refused, stats.Total);
        Assert.Equal(activations - 24, stats.Activated);
        Assert.Equal(24, stats.NotActivated);
        Assert.Equal(refused, stats.Failed);
        // The same numbers in /metrics.
        Assert.Equal(stats.Total, metrics.Value("kms_requests_received_total"));
        Assert.Equal(stats.Activated, metrics.Value("kms_requests_answered_total", ("outcome", "activated")));
        Assert.Equal(stats.NotActivated, metrics.Value("kms_requests_answered_total", ("outcome", "not-activated")));
        Assert.Equal(stats.Failed, metrics.Value("kms_requests_answered_total", ("outcome", "failed")));
        Assert.Equal(refused, metrics.Value("kms_requests_errors_total", ("error", "unknown-product")));
        Assert.Equal(stats.ByError.Count, metrics.All("kms_requests_errors_total").Count());
        foreach (var (code, count) in stats.ByError)
        {
            Assert.Equal(count, metrics.Value("kms_requests_errors_total", ("error", code)));
        }
        Assert.Equal(activations + refused, metrics.Value("kms_requests_license_states_total", ("license_state", "initial-grace")));
        Assert.Equal(stats.ByLicenseState.Count, metrics.All("kms_requests_license_states_total").Count());
        foreach (var (state, count) in stats.ByLicenseState)
        {
            Assert.Equal(count, metrics.Value("kms_requests_license_states_total", ("license_state", state)));
        }
        // Every answered activation is in the latency histogram; refusals at the edge are not.
        Assert.Equal(activations, metrics.Value("kms_activation_duration_milliseconds_count"));
        Assert.Equal(activations, metrics.Value("kms_activation_duration_milliseconds_bucket", ("le", "+Inf")));
        Assert.True(metrics.All("kms_activation_duration_milliseconds_bucket").Count() > 10, "the histogram has its buckets");
        Assert.True(metrics.Value("kms_activation_duration_milliseconds_sum") > 0);
    }

    [Fact]
    public async Task A_single_node_is_one_member_up_and_hosts_the_window_it_answered_from()
    {
        await using var connection = await _node.OpenConnectionAsync();
        Assert.False((await connection.ActivateAsync(Requests.For("office-ltsc-2024-professional-plus"), Answer)).IsError);

        var metrics = await ScrapeAsync(_node);
        Assert.Equal(1, metrics.Value("kms_cluster_members", ("status", "up")));
        Assert.Equal(1, metrics.All("kms_cluster_members").Sum(s => s.Value));
        Assert.Equal(0, metrics.Value("kms_cluster_unreachable_members"));
        // Shard counts are refreshed in the background: the office window shows up within a refresh or two.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!patience.IsCancellationRequested && !metrics.All("kms_cluster_entities")
                   .Any(s => s.Labels["type"] == "activation-window" && s.Value >= 1))
        {
            await Task.Delay(500);
            metrics = await ScrapeAsync(_node);
        }
        Assert.Equal(1, metrics.Value("kms_cluster_entities", ("type", "activation-window")));
        Assert.Equal(1, metrics.Value("kms_cluster_shards", ("type", "activation-window")));
    }

    [Fact]
    public async Task Metrics_need_the_admin_token_like_every_admin_path_but_the_probes()
    {
        using var http = new HttpClient { BaseAddress = _node.AdminUri, Timeout = TimeSpan.FromSeconds(30) };

        using var none = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(AdminAuth.Scheme, none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain("kms_", await none.Content.ReadAsStringAsync());

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new AuthenticationHeaderValue(AdminAuth.Scheme, "not-the-token");
        using var refused = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var metrics = await ScrapeAsync(_node);
        Assert.Contains("kms_requests_received_total", metrics.Names);
    }
}
