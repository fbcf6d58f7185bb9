using System.Diagnostics.Metrics;
using KmsCluster.Actors;
using KmsCluster.Node.Activation;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Telemetry;

/// <summary>
/// The request counters of <see cref="NodeStats"/> as observable instruments of the KmsCluster meter, so /metrics,
/// OTLP and /api/v1/stats show the same numbers. The activation path keeps its plain Interlocked increments; tags
/// are attached here, only when a reader collects, from tag lists built once.
/// </summary>
public sealed class RequestMetrics
{
    public const string Received = "kms.requests.received";
    public const string Answered = "kms.requests.answered";
    public const string Errors = "kms.requests.errors";
    public const string LicenseStatesReported = "kms.requests.license_states";

    private static readonly KeyValuePair<string, object?>[] ActivatedTag = [new("outcome", "activated")];
    private static readonly KeyValuePair<string, object?>[] NotActivatedTag = [new("outcome", "not-activated")];
    private static readonly KeyValuePair<string, object?>[] FailedTag = [new("outcome", "failed")];

    private static readonly (ErrorCode Code, KeyValuePair<string, object?>[] Tags)[] ErrorTags =
        Enum.GetValues<ErrorCode>().Select(c => (c, new KeyValuePair<string, object?>[] { new("error", c.Name()) })).ToArray();

    private static readonly (LicenseState State, KeyValuePair<string, object?>[] Tags)[] LicenseStateTags =
        Enum.GetValues<LicenseState>().Select(s => (s, new KeyValuePair<string, object?>[] { new("license_state", s.Name()) })).ToArray();

    public RequestMetrics(NodeStats stats, IMeterFactory meters)
    {
        var meter = meters.Create(KmsMetrics.MeterName);
        meter.CreateObservableCounter(Received, () => stats.Total, "{request}",
            "Requests read from clients, valid or not");
        meter.CreateObservableCounter(Answered, () => new Measurement<long>[]
            {
                new(stats.Activated, ActivatedTag),
                new(stats.NotActivated, NotActivatedTag),
                new(stats.FailedCount, FailedTag),
            }, "{request}", "Requests answered, by outcome: activated, not-activated (count below threshold), failed (an error answer)");
        meter.CreateObservableCounter(Errors, () => ErrorTags.Select(e => new Measurement<long>(stats.ErrorCount(e.Code), e.Tags)),
            "{request}", "Error answers by error code");
        meter.CreateObservableCounter(LicenseStatesReported,
            () => LicenseStateTags.Select(s => new Measurement<long>(stats.LicenseStateCount(s.State), s.Tags)),
            "{request}", "Requests by the licence state the client reported");
    }
}
