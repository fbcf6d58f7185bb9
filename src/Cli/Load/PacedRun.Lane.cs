using System.Threading.Tasks.Sources;

namespace KmsCluster.Cli.Load;

internal sealed partial class PacedRun
{
    /// <summary>
    /// Where an open-loop lane waits for a due slot: a reusable value-task source (no allocation per wait) and a
    /// parked flag that the lane and its wakers flip with compare-and-swap, so exactly one of them ends the wait.
    /// The lane resumes on its waker's thread (only <see cref="WakeDue"/> wakes lanes: on the pacer thread or in a
    /// thread-pool item).
    /// </summary>
    private sealed class Lane : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
        private int _parked;

        /// <summary>Marks the lane parked (a full fence: the look that follows sees every slot taken before).</summary>
        public void Park()
        {
            _core.Reset();
            Interlocked.Exchange(ref _parked, 1);
        }

        public bool IsParked => Volatile.Read(ref _parked) == 1;

        /// <summary>The lane ends its own wait; false when a waker was first.</summary>
        public bool TryUnpark() => Interlocked.CompareExchange(ref _parked, 0, 1) == 1;

        public ValueTask WaitAsync() => new(this, _core.Version);

        /// <summary>Ends the wait of a parked lane, which runs on in this thread; false when it was not parked.</summary>
        public bool Wake()
        {
            if (Volatile.Read(ref _parked) == 0 || Interlocked.CompareExchange(ref _parked, 0, 1) != 1)
            {
                return false;
            }
            _core.SetResult(true);
            return true;
        }

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
