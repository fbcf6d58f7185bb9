using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using KmsCluster.Actors;
using KmsCluster.Domain;
using KmsCluster.Actors.Gateway;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Licensing;
using KmsCluster.Node.RequestLogging;
using KmsCluster.Node.Registry;
using KmsCluster.Node.Telemetry;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Activation;

/// <summary>Where answers for one connection go. Called from gateway threads; must not block.</summary>
public interface IResponseSink
{
    void Send(uint requestId, in ActivationResponse response);

    /// <summary>An answer the <see cref="AnswerSigner"/> signed under <paramref name="key"/>; the sink sends the
    /// key's certificate first when its connection has not had it yet.</summary>
    void SendSigned(uint requestId, CertifiedKey key, in SignedActivationResponse answer);

    /// <param name="version">The envelope's version: the version of the request it answers.</param>
    void SendError(uint requestId, in ErrorResponse error, byte version = ProtocolConstants.Version);

    /// <summary>The client's address, for the request log; null when not known.</summary>
    System.Net.EndPoint? Remote { get; }
}

/// <summary>
/// The host's decisions at the edge, before a request reaches a window: is the product known here, does
/// it belong to the application the client named, is the client's clock within 4 hours. A valid request that
/// a full window's grant covers is answered at once; any other becomes a <see cref="PendingActivation"/> for the
/// gateway, answered when the window has journaled the contact. Counts every request and answer for the stats, logs one
/// line per activation at Debug, and hands each answer and refusal to the <see cref="RequestLog"/> when it is on.
/// </summary>
public sealed partial class ActivationService(
    ProductCatalog catalog,
    ActorRegistry registry,
    ClusterMembership membership,
    NodeOptions options,
    HostIdentity host,
    NodeStats stats,
    TimeProvider time,
    ILogger<ActivationService> log,
    HostLicence licence,
    HostCredentials credentials,
    AnswerSigner signer,
    RequestLog requestLog,
    RegistryFeed registryFeed)
{
    /// <summary>v1 requests are served (unsigned); else they get unsupported-version.</summary>
    public bool AllowsUnsigned => credentials.AllowUnsigned;

    /// <summary>Checks a decoded request and hands it on. Returns null when it was submitted (the answer
    /// reaches <paramref name="sink"/> later), else the refusal to send now. A request with a
    /// <paramref name="nonce"/> (v2) gets a signed answer, or host-not-certified.</summary>
    public ErrorResponse? Submit(uint requestId, in ActivationRequest request, UInt128? nonce, IResponseSink sink)
    {
        stats.RequestReceived();
        stats.LicenseStateReported(request.LicenseState);
        var span = ActivationSpans.Start(VersionOf(nonce));
        if (!catalog.TryGetProduct(request.ProductId, out var product))
        {
            return Refused(ErrorCode.UnknownProduct, $"product {request.ProductId} is not in this host's catalogue", sink, request, null, nonce, span);
        }
        if (!licence.Allows(product, out var refusal))
        {
            return Refused(refusal.Code, refusal.Message, sink, request, product, nonce, span);
        }
        var now = time.GetUtcNow();
        CertifiedKey? key = null;
        if (nonce is not null && !credentials.TryGet(product, now, out key, out var uncertified))
        {
            return Refused(ErrorCode.HostNotCertified, uncertified, sink, request, product, nonce, span);
        }
        if (product.Application.Id != request.ApplicationId)
        {
            return Refused(ErrorCode.MalformedRequest,
                $"product {product.Slug} belongs to application {product.Application.Slug} ({product.Application.Id}), not {request.ApplicationId}", sink, request, product, nonce, span);
        }
        if (!membership.IsServing)
        {
            return Refused(ErrorCode.WindowUnavailable,
                "this node is not an active member of its cluster (starting, leaving or downed); try another host", sink, request, product, nonce, span);
        }
        if (ActivationPolicy.ClockSkew(request.ClientTime, now) is { } skew)
        {
            return Refused(ErrorCode.ClockSkew,
                $"client clock {request.ClientTime:yyyy-MM-ddTHH:mm:ssZ} is {Describe(skew.Duration())} {(skew > TimeSpan.Zero ? "ahead of" : "behind")} the host clock {now:yyyy-MM-ddTHH:mm:ssZ}; at most 4 hours are allowed", sink, request, product, nonce, span);
        }
        // Registered when the actor system started (ActivationHosting); IsServing above implies it has.
        var gateways = (ContactGatewaysRef)registry.Get<ContactGatewaysRef>();
        var submittedAt = Stopwatch.GetTimestamp();
        // A full window's grant answers here and now; only the other requests need a submission to wait on.
        if (gateways.Gateways.TryAnswer(product.Application.Id, Contact(request, product), out var count, out var answeredAt))
        {
            var activated = Answer(sink, requestId, request, nonce, key, product, answeredAt, count, submittedAt);
            if (span is not null) ActivationSpans.Answered(span, product, count, activated, fromGrant: true);
            return null;
        }
        gateways.Tell(new PendingActivation(this, sink, requestId, request, product, submittedAt)
        {
            Nonce = nonce, Key = key, Span = span, Trace = KmsTracing.ContextOf(span),
        }, ActorRefs.NoSender);
        return null;
    }

    /// <summary>The contact a request makes with the window of its product's application.</summary>
    internal static ContactRequest Contact(in ActivationRequest request, Product product) =>
        new(request.ClientMachineId, product.Id, product.Threshold, request.Workstation, request.IsVirtualMachine, request.LicenseState);

    /// <summary>A request frame that could not be decoded or is of a version this host does not speak.</summary>
    /// <param name="version">The frame's envelope version, for the request log.</param>
    /// <param name="closing">The stream itself is broken (or a frame timed out) and the connection closes: logged at
    /// Debug only, because a garbage sender opens such connections as fast as it can and would flood the log; the
    /// metrics count them (kms_connections_cut_total).</param>
    public ErrorResponse RefusedFrame(ErrorCode code, string message, IResponseSink sink, byte version, bool closing = false)
    {
        stats.RequestReceived();
        if (requestLog.Enabled)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = time.GetUtcNow(), ProtocolVersion = version, Error = code, Message = message, Remote = sink.Remote,
            });
        }
        if (!closing) return Refused(code, message);
        stats.Failed(code);
        LogStreamClosed(code.Name(), message, sink.Remote);
        return new ErrorResponse(code, 0, message);
    }

    /// <summary>A frame turned away by the abuse limits with a retryable server-busy and a retry hint. Counted and
    /// request-logged like any refusal, but not logged as a warning each: a flood would flood the log.</summary>
    public ErrorResponse Busy(string message, TimeSpan retryAfter, IResponseSink sink, byte version)
    {
        stats.RequestReceived();
        stats.Failed(ErrorCode.ServerBusy);
        if (requestLog.Enabled)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = time.GetUtcNow(), ProtocolVersion = version, Error = ErrorCode.ServerBusy, Message = message, Remote = sink.Remote,
            });
        }
        // 0 means "no hint" on the wire: a hint rounds up to at least a millisecond.
        var hint = (uint)Math.Clamp(Math.Ceiling(retryAfter.TotalMilliseconds), 1, uint.MaxValue);
        return new ErrorResponse(ErrorCode.ServerBusy, hint, message);
    }

    /// <summary>A decoded request refused (<paramref name="product"/> null when the catalogue does not know it).</summary>
    private ErrorResponse Refused(ErrorCode code, string message, IResponseSink sink, in ActivationRequest request, Product? product,
        UInt128? nonce, Activity? span)
    {
        if (span is not null) ActivationSpans.Refused(span, product, code, message);
        if (requestLog.Enabled)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = time.GetUtcNow(), ProtocolVersion = VersionOf(nonce), Request = request, Product = product, Error = code,
                Message = message, Remote = sink.Remote,
            });
        }
        return Refused(code, message);
    }

    private ErrorResponse Refused(ErrorCode code, string message)
    {
        stats.Failed(code);
        LogRefused(code.Name(), message);
        return new ErrorResponse(code, code.IsRetryable() ? 1000u : 0u, message);
    }

    private static byte VersionOf(UInt128? nonce) => nonce is null ? ProtocolConstants.Version : ProtocolConstants.SignedVersion;

    internal void Complete(PendingActivation pending, DateTimeOffset recordedAt, int count)
    {
        var activated = Answer(pending.Sink, pending.RequestId, pending.Request, pending.Nonce, pending.Key, pending.Product, recordedAt,
            count, pending.SubmittedAt);
        if (pending.Span is { } span) ActivationSpans.Answered(span, pending.Product, count, activated, fromGrant: false);
    }

    /// <returns>Whether the answer activates.</returns>
    private bool Answer(IResponseSink sink, uint requestId, in ActivationRequest request, UInt128? nonce, CertifiedKey? key,
        Product product, DateTimeOffset recordedAt, int count, long submittedAt)
    {
        var (activated, validUntil) = ActivationPolicy.Decide(count, product.Threshold, recordedAt);
        KmsMetrics.ActivationDuration.Record(Stopwatch.GetElapsedTime(submittedAt).TotalMilliseconds);
        stats.Answered(activated);
        if (requestLog.Enabled)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = recordedAt, ProtocolVersion = VersionOf(nonce), Request = request, Product = product, Count = count,
                Activated = activated, ValidUntil = validUntil, Remote = sink.Remote,
            });
        }
        registryFeed.Record(new RegistryContact(product.Application.Id, request.ClientMachineId, request.Workstation, product.Id,
            request.IsVirtualMachine, count, activated, validUntil, recordedAt));
        if (log.IsEnabled(LogLevel.Debug))
        {
            LogActivation(request.ClientMachineId, request.Workstation, product.Slug, request.LicenseState.Name(),
                request.MinutesLeft, request.RequiredCount, request.IsVirtualMachine, count, product.Threshold, activated);
        }
        var response = new ActivationResponse(
            request.ClientMachineId,
            host.Id,
            host.Name,
            recordedAt,
            (ushort)Math.Min(count, ushort.MaxValue),
            (ushort)product.Threshold,
            activated,
            validUntil,
            options.ActivationIntervalMinutes,
            options.RenewalIntervalMinutes);
        if (key is not null)
        {
            signer.Enqueue(sink, requestId, key, new SignedAnswerContent(nonce!.Value, product.Id, key.KeyId, response));
            return activated;
        }
        sink.Send(requestId, response);
        return activated;
    }

    internal void Fail(PendingActivation pending, ErrorCode code, string message)
    {
        var error = Refused(code, message, pending.Sink, pending.Request, pending.Product, pending.Nonce, pending.Span);
        pending.Sink.SendError(pending.RequestId, error, pending.Key is null ? ProtocolConstants.Version : ProtocolConstants.SignedVersion);
    }

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m" : $"{span.Minutes}m {span.Seconds}s";

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Activation request {Cmid} from {Workstation}: product {Product}, state {LicenseState} ({MinutesLeft} min left), client needs {RequiredCount}, vm {VirtualMachine}; count {Count}/{Threshold}, activated {Activated}")]
    private partial void LogActivation(Guid cmid, string workstation, string product, string licenseState, uint minutesLeft,
        ushort requiredCount, bool virtualMachine, int count, int threshold, bool activated);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream from {Remote} refused and closed ({Code}): {Reason}")]
    private partial void LogStreamClosed(string code, string reason, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request refused ({Code}): {Reason}")]
    private partial void LogRefused(string code, string reason);
}

/// <summary>A valid request on its way through the gateway to its window.</summary>
internal sealed class PendingActivation(
    ActivationService service,
    IResponseSink sink,
    uint requestId,
    ActivationRequest request,
    Product product,
    long submittedAt)
    : ContactSubmission(product.Application.Id, ActivationService.Contact(request, product))
{
    public IResponseSink Sink { get; } = sink;
    public uint RequestId { get; } = requestId;
    public ActivationRequest Request { get; } = request;
    public Product Product { get; } = product;
    public long SubmittedAt { get; } = submittedAt;

    /// <summary>v2: the request's nonce and the certificate its answer is signed under.</summary>
    public UInt128? Nonce { get; init; }

    public CertifiedKey? Key { get; init; }

    /// <summary>The request's kms.activate span, when traced; ended with the answer.</summary>
    public Activity? Span { get; init; }

    public override void Recorded(DateTimeOffset recordedAt, int count) => service.Complete(this, recordedAt, count);

    public override void Failed(ErrorCode code, string message) => service.Fail(this, code, message);
}
