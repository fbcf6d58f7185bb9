using System.Diagnostics;

namespace KmsCluster.Actors;

/// <summary>
/// The spans of one activation (ActivitySource "KmsCluster"): kms.activate on the node that read the request,
/// kms.window.record and kms.journal.persist on the node that owns the window. Spans exist only while a listener
/// (the OpenTelemetry tracer of --otlp-traces on) subscribes to the source: without one,
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and the activation path pays a
/// null check.
/// </summary>
public static class KmsTracing
{
    public const string SourceName = "KmsCluster";

    public const string ActivateSpan = "kms.activate";
    public const string WindowRecordSpan = "kms.window.record";
    public const string JournalPersistSpan = "kms.journal.persist";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts a span without making it <see cref="Activity.Current"/>: these spans end on other threads
    /// (an answer comes back through an actor), so they must not leak into whatever the starting thread runs next.</summary>
    public static Activity? StartDetached(string name, ActivityKind kind, ActivityContext parent = default,
        IEnumerable<ActivityLink>? links = null)
    {
        if (!Source.HasListeners()) return null;
        var current = Activity.Current;
        var span = Source.StartActivity(name, kind, parent, links: links);
        Activity.Current = current;
        return span;
    }

    /// <summary>Ends a span started by <see cref="StartDetached"/>; stopping restores the span's own predecessor as
    /// <see cref="Activity.Current"/>, so the calling thread's current activity is put back.</summary>
    public static void Stop(Activity span)
    {
        var current = Activity.Current;
        span.Stop();
        Activity.Current = current;
    }

    /// <summary>Ends a span as failed.</summary>
    public static void Fail(Activity span, string message)
    {
        span.SetStatus(ActivityStatusCode.Error, message);
        Stop(span);
    }

    /// <summary>What goes with a contact to its window: the W3C context of a recorded span (unsampled spans send
    /// nothing; the window's side would drop its span anyway).</summary>
    public static TraceContext? ContextOf(Activity? span) =>
        span is { Recorded: true, IdFormat: ActivityIdFormat.W3C, Id: { } id } ? new TraceContext(id, span.TraceStateString) : null;
}

/// <summary>A W3C trace context as it crosses nodes with a contact: the <c>traceparent</c> header's value
/// (00-TRACEID-SPANID-FLAGS) and <c>tracestate</c>, if any.</summary>
public sealed record TraceContext(string TraceParent, string? TraceState)
{
    /// <summary>The parsed context, remote; default when the text is not a valid traceparent (then no parent).</summary>
    public ActivityContext Parse() =>
        ActivityContext.TryParse(TraceParent, TraceState, isRemote: true, out var context) ? context : default;
}
