using System.Diagnostics.Metrics;
using KmsCluster.Actors;
using KmsCluster.Node.Registry;

namespace KmsCluster.Node.Telemetry;

/// <summary>The client registry feed's counters (<see cref="RegistryFeed"/>) as observable instruments, the same
/// numbers as <c>clientRegistry</c> in /api/v1/stats: rows written, answers dropped, answers waiting.</summary>
public sealed class RegistryMetrics
{
    public const string Written = "kms.client_registry.written";
    public const string Dropped = "kms.client_registry.dropped";
    public const string Pending = "kms.client_registry.pending";

    public RegistryMetrics(RegistryFeed feed, IMeterFactory meters)
    {
        var meter = meters.Create(KmsMetrics.MeterName);
        meter.CreateObservableCounter(Written, () => feed.Stats().Written, "{row}", "Client registry rows upserted");
        meter.CreateObservableCounter(Dropped, () => feed.Stats().Dropped, "{answer}",
            "Answers not recorded in the client registry: its buffer was full or a write failed");
        meter.CreateObservableGauge(Pending, () => feed.Pending, "{answer}", "Answers waiting for the client registry writer");
    }
}
