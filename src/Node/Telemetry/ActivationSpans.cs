using System.Diagnostics;
using KmsCluster.Actors;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Telemetry;

/// <summary>The kms.activate span of one activation request on the node that read it (<see cref="KmsTracing"/>):
/// started when the request is decoded, ended with its answer or refusal, wherever that happens.</summary>
internal static class ActivationSpans
{
    public const string Application = "kms.application";
    public const string ProductName = "kms.product";
    public const string Outcome = "kms.outcome";
    public const string Count = "kms.count";
    public const string AnsweredBy = "kms.answered_by";
    public const string ProtocolVersion = "kms.protocol_version";

    /// <summary>Null unless traces are on (and this request is sampled or propagated).</summary>
    public static Activity? Start(byte protocolVersion)
    {
        var span = KmsTracing.StartDetached(KmsTracing.ActivateSpan, ActivityKind.Server);
        if (span is { IsAllDataRequested: true }) span.SetTag(ProtocolVersion, (int)protocolVersion);
        return span;
    }

    /// <param name="fromGrant">Answered at once from a full window's grant, rather than by the window.</param>
    public static void Answered(Activity span, Product product, int count, bool activated, bool fromGrant)
    {
        if (span.IsAllDataRequested)
        {
            Describe(span, product);
            span.SetTag(Outcome, activated ? "activated" : "not-activated");
            span.SetTag(Count, count);
            span.SetTag(AnsweredBy, fromGrant ? "grant" : "window");
        }
        KmsTracing.Stop(span);
    }

    /// <param name="product">Null when the catalogue does not know the requested product.</param>
    public static void Refused(Activity span, Product? product, ErrorCode code, string message)
    {
        if (span.IsAllDataRequested)
        {
            if (product is not null) Describe(span, product);
            span.SetTag(Outcome, code.Name());
        }
        KmsTracing.Fail(span, message);
    }

    private static void Describe(Activity span, Product product)
    {
        span.SetTag(Application, product.Application.Slug);
        span.SetTag(ProductName, product.Slug);
    }
}
