using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Registry;

/// <summary>
/// Hands answered contacts from the answer path to the <see cref="ClientRegistryWriter"/>. <see cref="Record"/>
/// runs on every answer, on any thread: a lock-free queue and two interlocked counters, never a wait. The queue is
/// bounded (<see cref="Capacity"/>): when the writer is that far behind, an answer is dropped and counted rather
/// than slowing the answers down.
/// </summary>
public sealed class RegistryFeed
{
    /// <summary>About 64 bytes a contact (plus its workstation string, which the request already holds).</summary>
    public const int DefaultCapacity = 262_144;

    private readonly System.Collections.Concurrent.ConcurrentQueue<RegistryContact> _queue = new();
    private readonly SemaphoreSlim _halfFull = new(0);
    private long _queued;
    private long _dropped;
    private long _written;
    private long _lastFlushTicks;

    public RegistryFeed(bool enabled, int capacity = DefaultCapacity)
    {
        Enabled = enabled;
        Capacity = capacity;
    }

    public bool Enabled { get; }

    public int Capacity { get; }

    public long Pending => Interlocked.Read(ref _queued);

    public void Record(in RegistryContact contact)
    {
        if (!Enabled)
        {
            return;
        }
        var queued = Interlocked.Increment(ref _queued);
        if (queued > Capacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _queue.Enqueue(contact);
        if (queued == Capacity / 2)
        {
            _halfFull.Release(); // wakes the writer early; only the one answer that crosses the mark pays for it
        }
    }

    /// <summary>The writer waits here between flushes: <paramref name="interval"/>, or less once the buffer is half full.</summary>
    internal async Task WaitForWorkAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            await _halfFull.WaitAsync(interval, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the writer flushes what is left.
        }
    }

    /// <summary>Takes up to <paramref name="max"/> queued contacts, the latest of each key kept (first contact: the earliest).</summary>
    internal Dictionary<RegistryKey, RegistryRow> Drain(int max)
    {
        var rows = new Dictionary<RegistryKey, RegistryRow>();
        var taken = 0;
        while (taken < max && _queue.TryDequeue(out var contact))
        {
            taken++;
            var key = contact.Key;
            rows[key] = rows.TryGetValue(key, out var seen)
                ? new RegistryRow(contact.At >= seen.Latest.At ? contact : seen.Latest,
                    contact.At < seen.FirstContact ? contact.At : seen.FirstContact)
                : new RegistryRow(contact, contact.At);
        }
        Interlocked.Add(ref _queued, -taken);
        return rows;
    }

    internal void Written(int rows, DateTimeOffset at)
    {
        Interlocked.Add(ref _written, rows);
        Interlocked.Exchange(ref _lastFlushTicks, at.UtcTicks);
    }

    internal void Lost(int contacts) => Interlocked.Add(ref _dropped, contacts);

    public ClientRegistryStatsJson Stats()
    {
        var flushed = Interlocked.Read(ref _lastFlushTicks);
        return new ClientRegistryStatsJson(Enabled, Pending, Interlocked.Read(ref _written), Interlocked.Read(ref _dropped),
            flushed == 0 ? null : new DateTimeOffset(flushed, TimeSpan.Zero));
    }
}
