using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Registry;

/// <summary>
/// Hands answered contacts from the answer path to the <see cref="ClientRegistryWriter"/>. <see cref="Record"/>
/// runs on every answer, on any thread: a lock-free queue and an interlocked counter, never a wait. The queue is
/// bounded (<see cref="Capacity"/>): when the writer is that far behind, an answer is dropped and counted rather
/// than slowing the answers down, and what is queued is never older than the queue's length at the writer's rate.
/// </summary>
public sealed class RegistryFeed
{
    /// <summary>Three seconds at the writer's rate (<see cref="ClientRegistryWriter.MaxContactsPerSecond"/>); about
    /// 100 bytes a contact, 600 KB in all.</summary>
    public const int DefaultCapacity = 3 * ClientRegistryWriter.MaxContactsPerSecond;

    private readonly System.Collections.Concurrent.ConcurrentQueue<RegistryContact> _queue = new();
    // Each on a cache line of its own: every answer touches one, and the one it touches must not be the other's.
    private PaddedCounter _queued;
    private PaddedCounter _dropped;
    private long _written;
    private long _lastFlushTicks;

    public RegistryFeed(bool enabled, int capacity = DefaultCapacity)
    {
        Enabled = enabled;
        Capacity = capacity;
    }

    public bool Enabled { get; }

    public int Capacity { get; }

    public long Pending => Interlocked.Read(ref _queued.Value);

    public void Record(in RegistryContact contact)
    {
        if (!Enabled)
        {
            return;
        }
        // A full queue is seen with a plain read: under overload, dropping costs one increment, not three.
        if (Volatile.Read(ref _queued.Value) >= Capacity)
        {
            Interlocked.Increment(ref _dropped.Value);
            return;
        }
        if (Interlocked.Increment(ref _queued.Value) > Capacity)
        {
            Interlocked.Decrement(ref _queued.Value);
            Interlocked.Increment(ref _dropped.Value);
            return;
        }
        _queue.Enqueue(contact);
    }

    /// <summary>Takes up to <paramref name="max"/> queued contacts, the latest of each key kept (first contact: the
    /// earliest); <paramref name="taken"/> says how many contacts that was.</summary>
    internal Dictionary<RegistryKey, RegistryRow> Drain(int max, out int taken)
    {
        var rows = new Dictionary<RegistryKey, RegistryRow>();
        taken = 0;
        while (taken < max && _queue.TryDequeue(out var contact))
        {
            taken++;
            var key = contact.Key;
            rows[key] = rows.TryGetValue(key, out var seen)
                ? new RegistryRow(contact.At >= seen.Latest.At ? contact : seen.Latest,
                    contact.At < seen.FirstContact ? contact.At : seen.FirstContact)
                : new RegistryRow(contact, contact.At);
        }
        Interlocked.Add(ref _queued.Value, -taken);
        return rows;
    }

    internal void Written(int rows, DateTimeOffset at)
    {
        Interlocked.Add(ref _written, rows);
        Interlocked.Exchange(ref _lastFlushTicks, at.UtcTicks);
    }

    internal void Lost(int contacts) => Interlocked.Add(ref _dropped.Value, contacts);

    public ClientRegistryStatsJson Stats()
    {
        var flushed = Interlocked.Read(ref _lastFlushTicks);
        return new ClientRegistryStatsJson(Enabled, Pending, Interlocked.Read(ref _written), Interlocked.Read(ref _dropped.Value),
            flushed == 0 ? null : new DateTimeOffset(flushed, TimeSpan.Zero));
    }
}

/// <summary>A counter alone on its cache line (64 bytes either side).</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
internal struct PaddedCounter
{
    [System.Runtime.InteropServices.FieldOffset(64)]
    public long Value;
}
