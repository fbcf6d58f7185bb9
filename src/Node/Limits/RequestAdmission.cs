using System.Net;

namespace KmsCluster.Node.Limits;

/// <summary>
/// Whether one connection's next frame is served or answered server-busy: its source over --source-rate (the hint
/// says when its bucket has a token again), or the node holding --max-pending unanswered requests. One per session;
/// the session calls <see cref="Admit"/> for every frame it took a slot for and <see cref="Answered"/> when slots
/// come back, so the node's count follows the slots.
/// </summary>
internal sealed class RequestAdmission(LimitStats stats, NodePendingAnswers pending, SourceRateLimiter rate, IPAddress? bucket)
{
    /// <summary>How long a client refused because the whole node is full should wait: about how long the node
    /// takes to answer what it holds (a window's round trip), as the gateway's own server-busy says.</summary>
    private static readonly TimeSpan NodeFullRetry = TimeSpan.FromSeconds(1);

    /// <summary>Null: serve the frame; else why not and when to retry.</summary>
    public Busy? Admit()
    {
        var nodeHasRoom = pending.Enter(); // counted either way: the busy answer holds a slot too
        if (bucket is not null && rate.TryTake(bucket) is { } after)
        {
            stats.ThrottledSource();
            return new Busy("too many requests from this source address; retry later", after, OverSourceRate: true);
        }
        if (!nodeHasRoom)
        {
            stats.ThrottledNode();
            return new Busy($"this node holds {pending.Max} unanswered requests; retry later", NodeFullRetry, OverSourceRate: false);
        }
        return null;
    }

    /// <summary>Slots given back by the connection's writer (answers flushed, or dropped with the connection).</summary>
    public void Answered(int count) => pending.Leave(count);
}

/// <summary>A refusal with server-busy: the message, the retry hint, and whether the source's own rate was the cause.</summary>
internal readonly record struct Busy(string Message, TimeSpan RetryAfter, bool OverSourceRate);
