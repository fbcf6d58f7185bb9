using System.Net;
using System.Threading.RateLimiting;

namespace KmsCluster.Node.Limits;

/// <summary>
/// --source-rate: a token bucket per <see cref="SourceKey"/> (System.Threading.RateLimiting's partitioned limiter,
/// one timer replenishing every bucket and dropping those full and idle for 10 s). A bucket holds one second's worth
/// of requests and refills a tenth of that every 100 ms. A request finding its bucket empty gets a retry hint: when
/// the bucket will have a token again.
/// Memory stays bounded under a flood from many addresses: at most <see cref="MaxSources"/> buckets exist; a
/// connection that opens while that many do shares one overflow bucket with the others that found it full.
/// </summary>
public sealed class SourceRateLimiter : IDisposable
{
    /// <summary>Buckets kept at most (a few hundred bytes each): far more sources than --max-connections lets
    /// connect at once, so only sources coming and going faster than idle buckets are dropped reach the overflow.</summary>
    public const int MaxSources = 100_000;

    private static readonly IPAddress Overflow = IPAddress.IPv6None;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedRateLimiter<IPAddress>? _limiter;
    private int _buckets;

    /// <param name="rate">Requests per second per source; 0: no limit.</param>
    public SourceRateLimiter(int rate)
    {
        if (rate == 0) return;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate,
            // Below 10/s the bucket refills once a second; the partitioned limiter's timer ticks every 100 ms.
            ReplenishmentPeriod = rate >= 10 ? Period : TimeSpan.FromSeconds(1),
            TokensPerPeriod = rate >= 10 ? (rate + 9) / 10 : rate,
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(key =>
            RateLimitPartition.Get(key, _ => new CountedBucket(new TokenBucketRateLimiter(bucket), this)));
    }

    /// <summary>Token buckets that exist now (sources seen in the last seconds, plus the overflow's).</summary>
    public int Buckets => Volatile.Read(ref _buckets);

    /// <summary>The bucket a new connection from <paramref name="source"/> draws from: its own, or the shared
    /// overflow while <see cref="MaxSources"/> buckets exist.</summary>
    public IPAddress BucketFor(SourceKey source) => Buckets < MaxSources ? source.Key : Overflow;

    /// <summary>Takes one request's token; null when it may go on, else how long until a token is back.</summary>
    public TimeSpan? TryTake(IPAddress bucket)
    {
        if (_limiter is null) return null;
        using var lease = _limiter.AttemptAcquire(bucket);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Period;
    }

    public void Dispose() => _limiter?.Dispose();

    /// <summary>A token bucket that counts itself in <see cref="Buckets"/> while it exists; otherwise the bucket
    /// itself (the partitioned limiter replenishes it through <see cref="TryReplenish"/>).</summary>
    private sealed class CountedBucket : ReplenishingRateLimiter
    {
        private readonly TokenBucketRateLimiter _inner;
        private readonly SourceRateLimiter _owner;
        private int _disposed;

        public CountedBucket(TokenBucketRateLimiter inner, SourceRateLimiter owner)
        {
            _inner = inner;
            _owner = owner;
            Interlocked.Increment(ref owner._buckets);
        }

        public override TimeSpan? IdleDuration => _inner.IdleDuration;
        public override bool IsAutoReplenishing => _inner.IsAutoReplenishing;
        public override TimeSpan ReplenishmentPeriod => _inner.ReplenishmentPeriod;
        public override bool TryReplenish() => _inner.TryReplenish();
        public override RateLimiterStatistics? GetStatistics() => _inner.GetStatistics();
        protected override RateLimitLease AttemptAcquireCore(int permitCount) => _inner.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            _inner.AcquireAsync(permitCount, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _inner.Dispose();
                Interlocked.Decrement(ref _owner._buckets);
            }
            base.Dispose(disposing);
        }

        protected override async ValueTask DisposeAsyncCore()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await _inner.DisposeAsync();
                Interlocked.Decrement(ref _owner._buckets);
            }
        }
    }
}
