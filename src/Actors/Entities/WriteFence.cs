namespace KmsCluster.Actors.Entities;

/// <summary>
/// Whether this node may still journal. A node that was frozen (a paused VM, SIGSTOP) for longer than the
/// cluster's failure detection must assume the others downed it and took its windows over: from the moment
/// it wakes, it writes nothing more. The database would refuse a conflicting write anyway; the fence keeps
/// a woken node from writing at all, even where nobody else has written yet.
/// </summary>
public interface IWriteFence
{
    bool MayWrite { get; }
}

/// <summary>A fence that never closes: a single node, or a test.</summary>
public sealed class OpenFence : IWriteFence
{
    public static readonly OpenFence Instance = new();

    public bool MayWrite => true;
}
