namespace KmsCluster.Node.Limits;

/// <summary>
/// Requests read on every connection of this node and not yet answered (--max-pending). A session counts a frame in
/// when it takes the frame's slot and out when the slot comes back (answer flushed, or dropped with its connection),
/// so the count follows the per-connection slots exactly. A frame that finds the node full is still counted (its
/// server-busy answer holds a slot too) but not served: the count can pass the limit only by the refusals being
/// written.
/// </summary>
public sealed class NodePendingAnswers(int max)
{
    private int _pending;

    public int Max => max;

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Counts one frame in; false when the node already held <see cref="Max"/>: answer it server-busy.</summary>
    public bool Enter() => Interlocked.Increment(ref _pending) <= max;

    public void Leave(int count) => Interlocked.Add(ref _pending, -count);
}
