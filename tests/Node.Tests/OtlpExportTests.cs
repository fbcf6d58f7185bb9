using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Text;
using KmsCluster.Client.Connection;
using KmsCluster.Node.Configuration;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>--otlp-endpoint: read and checked like every flag, and a real node pushes its metrics to an OTLP/HTTP
/// receiver.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public void Without_an_endpoint_nothing_is_pushed()
    {
        Assert.Null(NodeOptionsTests.Read(null, null).Otlp);
    }

    [Fact]
    public void An_http_endpoint_is_the_collectors_base_url_and_metrics_go_to_its_v1_metrics_path()
    {
        var otlp = NodeOptionsTests.Read(null, null, "--otlp-endpoint", "http://collector.corp.example:4318/").Otlp!;
        Assert.Equal(new Uri("http://collector.corp.example:4318/v1/metrics"), otlp.Endpoint);
        Assert.Equal(OtlpProtocol.HttpProtobuf, otlp.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(60), otlp.Interval);

        var prefixed = NodeOptionsTests.Read(null, null, "--otlp-endpoint", "https://gateway.example/otel").Otlp!;
        Assert.Equal(new Uri("https://gateway.example/otel/v1/metrics"), prefixed.Endpoint);
    }

    [Fact]
    public void The_environment_sets_a_grpc_endpoint_and_the_interval()
    {
        var otlp = NodeOptionsTests.Read(null, new Dictionary<string, string>
        {
            ["KMS_OTLP_ENDPOINT"] = "http://collector:4317",
            ["KMS_OTLP_PROTOCOL"] = "grpc",
            ["KMS_OTLP_INTERVAL"] = "15s",
        }).Otlp!;
        Assert.Equal(new Uri("http://collector:4317"), otlp.Endpoint);
        Assert.Equal(OtlpProtocol.Grpc, otlp.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(15), otlp.Interval);
    }

    [Theory]
    [InlineData("collector:4318", "--otlp-endpoint")]
    [InlineData("ftp://collector:4318", "--otlp-endpoint")]
    [InlineData("http://collector:4318/?token=1", "--otlp-endpoint")]
    public void A_url_that_is_not_http_is_refused_with_its_flag(string url, string flag)
    {
        var error = Assert.Throws<NodeOptionsException>(() => NodeOptionsTests.Read(null, null, "--otlp-endpoint", url));
        Assert.StartsWith(flag + ":", error.Message);
        Assert.Contains(url, error.Message);
    }

    [Fact]
    public void A_grpc_endpoint_with_a_path_an_unknown_protocol_and_a_too_short_interval_are_refused()
    {
        Assert.StartsWith("--otlp-endpoint: a gRPC endpoint has no path", Assert.Throws<NodeOptionsException>(() =>
            NodeOptionsTests.Read(null, null, "--otlp-endpoint", "http://collector:4317/v1/metrics", "--otlp-protocol", "grpc")).Message);
        Assert.StartsWith("--otlp-protocol: \"thrift\"", Assert.Throws<NodeOptionsException>(() =>
            NodeOptionsTests.Read(null, null, "--otlp-endpoint", "http://collector:4318", "--otlp-protocol", "thrift")).Message);
        Assert.StartsWith("--otlp-interval: must be between 1s and 1h", Assert.Throws<NodeOptionsException>(() =>
            NodeOptionsTests.Read(null, null, "--otlp-interval", "500ms")).Message);
    }

    [Fact]
    public async Task A_node_pushes_its_kms_metrics_to_an_otlp_http_receiver()
    {
        // A tiny OTLP/HTTP receiver: takes protobuf posts to /v1/metrics and answers an empty (valid) response.
        var exports = new TaskCompletionSource<(string? ContentType, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            // The first exports may come before the node has answered anything: the latency histogram appears
            // with the first activation.
            if (Contains(bytes, "kms.activation.duration"))
            {
                exports.TrySetResult((request.ContentType, bytes));
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        await receiver.StartAsync();
        var url = receiver.Urls.Single();

        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--otlp-endpoint", url, "--otlp-interval", "1s");
        await using var connection = await node.OpenConnectionAsync();
        Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), TimeSpan.FromSeconds(30))).IsError);

        var (contentType, export) = await exports.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("application/x-protobuf", contentType);
        // Protobuf keeps strings as UTF-8 bytes: the resource names the node, the meter its instruments.
        Assert.True(Contains(export, "kms-node"), "service.name kms-node");
        Assert.True(Contains(export, node.HostId), "service.instance.id is the host id");
        Assert.True(Contains(export, "KmsCluster"), "the KmsCluster meter");
        Assert.True(Contains(export, "kms.requests.answered"), "the request counters");
        Assert.True(Contains(export, "kms.cluster.members"), "the membership gauge");
    }

    private static bool Contains(byte[] haystack, string text) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
