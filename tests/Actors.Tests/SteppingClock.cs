namespace KmsCluster.Actors.Tests;

/// <summary>A clock whose wall time can step (an NTP correction, an operator) independently of the monotonic time
/// that measures elapsed intervals; <see cref="Advance"/> moves both, as real time passing does.</summary>
internal sealed class SteppingClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _wall = start;
    private long _elapsedTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _wall;
    }

    public override long GetTimestamp()
    {
        lock (_gate) return _elapsedTicks;
    }

    public void Advance(TimeSpan span)
    {
        lock (_gate)
        {
            _wall += span;
            _elapsedTicks += span.Ticks;
        }
    }

    public void StepWall(TimeSpan step)
    {
        lock (_gate) _wall += step;
    }
}
