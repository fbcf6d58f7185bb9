namespace KmsCluster.Node.Activation;

/// <summary>
/// At most N requests of one connection in flight. The read loop takes a slot for every frame before it handles
/// it; the connection's writer gives slots back once their answers are flushed (or dropped with a closed
/// connection). So a client that does not read its answers stops being read, and a closing connection can wait
/// for every answer it owes.
/// </summary>
internal sealed class RequestSlots(int max)
{
    private readonly SemaphoreSlim _free = new(max, max);

    /// <summary>Takes a slot, waiting while all are taken; false when <paramref name="stop"/> fired first.</summary>
    public ValueTask<bool> TakeAsync(CancellationToken stop)
    {
        if (_free.Wait(0)) return ValueTask.FromResult(true);
        return WaitAsync(stop);

        async ValueTask<bool> WaitAsync(CancellationToken token)
        {
            try
            {
                await _free.WaitAsync(token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>Gives back the slots of answers that are out (called from the writer, on any thread).</summary>
    public void Return(int count) => _free.Release(count);

    /// <summary>Waits until every slot is back, i.e. every answer owed was written; false when
    /// <paramref name="timeout"/> passed first (a client that stopped reading).</summary>
    public async Task<bool> AllReturnedAsync(TimeSpan timeout)
    {
        using var expiry = new CancellationTokenSource(timeout);
        try
        {
            for (var i = 0; i < max; i++)
            {
                await _free.WaitAsync(expiry.Token);
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
