using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>
/// --otlp-traces on two real nodes: an activation read by one node and recorded by the window on the other is one
/// trace. The trace context crosses nodes with the gateway's batch (RecordContacts), so the owner's
/// kms.window.record span is the child of the entry node's kms.activate span.
/// </summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task An_activation_answered_by_a_window_on_another_node_is_one_trace_across_both()
    {
        await using var collector = await OtlpTraceReceiver.StartAsync();
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 2, null,
            "--otlp-endpoint", collector.Url, "--otlp-traces", "on");
        await cluster.RunAsync(async () =>
        {
            var owner = cluster.Nodes[await cluster.OwnerIndexAsync("windows", Settle)]!;
            var entry = cluster.Running.Single(n => n != owner);

            // The first contact of the window: not full, so the request goes through the gateway to the owner.
            await using var connection = await entry.OpenConnectionAsync();
            var answer = await connection.ActivateAsync(Requests.For("windows-11-pro"), TimeSpan.FromSeconds(30));
            Assert.False(answer.IsError, answer.ToString());

            var spans = await collector.WaitForSpansAsync(s =>
                s.Any(x => x.Name == "kms.activate") && s.Any(x => x.Name == "kms.window.record"), Settle);
            var activate = Assert.Single(spans, s => s.Name == "kms.activate");
            var record = Assert.Single(spans, s => s.Name == "kms.window.record");

            Assert.Equal(entry.HostId, activate.ServiceInstanceId);
            Assert.Equal(entry.Name, activate.Resource["host.name"]);
            Assert.Equal("windows-11-pro", activate.Attributes["kms.product"]);
            Assert.Equal("window", activate.Attributes["kms.answered_by"]);
            Assert.Equal(owner.HostId, record.ServiceInstanceId);
            Assert.Equal(owner.Name, record.Resource["host.name"]);
            Assert.Equal(activate.TraceId, record.TraceId);
            Assert.Equal(activate.SpanId, record.ParentSpanId);
        });
    }
}
