using System.Diagnostics;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Windows;

/// <summary>The spans of a window (<see cref="KmsTracing"/>) on the node that owns it: one per traced batch and one
/// per journal write that holds one. A batch holds many requests and a write many batches: each span is the child of
/// the first traced one and links the others.</summary>
internal static class WindowSpans
{
    /// <summary>kms.window.record, from the batch's arrival to its answer. Null for an untraced batch, or when traces
    /// are off on this node.</summary>
    public static Activity? Record(Guid applicationId, RecordContacts batch)
    {
        if (batch.Traces.Length == 0) return null;
        var links = batch.Traces.Length == 1 ? null
            : batch.Traces.Skip(1).Select(t => t.Parse()).Where(c => c != default).Select(c => new ActivityLink(c)).ToArray();
        var span = KmsTracing.StartDetached(KmsTracing.WindowRecordSpan, ActivityKind.Consumer, batch.Traces[0].Parse(), links);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("kms.application_id", applicationId.ToString());
            span.SetTag("kms.contacts", batch.Contacts.Length);
            span.SetTag("kms.traced_requests", batch.Traces.Length);
        }
        return span;
    }

    /// <summary>kms.journal.persist around one event's write; null when no batch in it is traced.</summary>
    /// <param name="batchSpans">The <see cref="Record"/> span of each batch in the write (null: untraced).</param>
    public static Activity? Persist(IReadOnlyCollection<Activity?> batchSpans, int contacts)
    {
        Activity? parent = null;
        List<ActivityLink>? links = null;
        foreach (var span in batchSpans)
        {
            if (span is null) continue;
            if (parent is null) parent = span;
            else (links ??= []).Add(new ActivityLink(span.Context));
        }
        if (parent is null) return null;
        var persist = KmsTracing.StartDetached(KmsTracing.JournalPersistSpan, ActivityKind.Internal, parent.Context, links);
        if (persist is { IsAllDataRequested: true })
        {
            persist.SetTag("kms.contacts", contacts);
            persist.SetTag("kms.batches", batchSpans.Count);
        }
        return persist;
    }
}
