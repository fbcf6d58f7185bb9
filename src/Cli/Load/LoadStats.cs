using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli.Load;

/// <summary>
/// Counters and latency histograms of one run, sharded so workers do not contend: each worker records into its
/// own <see cref="Shard"/> (an HdrHistogram <see cref="Recorder"/> plus counters); once a second the sampler
/// takes every shard's interval histogram and counters, which gives both the timeline and the totals.
/// </summary>
internal sealed class LoadStats
{
    /// <summary>Latencies are recorded in microseconds, from 1 µs to 1 hour, to 3 significant digits.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    /// <summary>Requests that got no answer at all (timeout, lost connection); counted with the errors.</summary>
    public const string NoAnswer = "no-answer";

    private readonly Shard[] _shards;
    private readonly LongHistogram _total = NewHistogram();
    private readonly LongHistogram _second = NewHistogram();
    private readonly LongHistogram _scratch = NewHistogram();
    private readonly List<TimelinePoint> _timeline = [];
    private Totals _previous;
    private long _lastSampleTicks;

    public LoadStats(int shards)
    {
        _shards = new Shard[Math.Max(1, shards)];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new Shard();
        }
    }

    /// <summary>The shard worker <paramref name="worker"/> records into.</summary>
    public Shard For(int worker) => _shards[worker % _shards.Length];

    public static LongHistogram NewHistogram() => new(1, HighestMicroseconds, 3);

    /// <summary>Microseconds from a <see cref="Stopwatch"/> timestamp to now.</summary>
    public static long MicrosecondsSince(long timestamp) =>
        (long)((Stopwatch.GetTimestamp() - timestamp) * (1_000_000.0 / Stopwatch.Frequency));

    /// <summary>Closes the interval since the previous sample: appends a timeline point and adds it to the totals.
    /// Only the sampler calls this (one thread at a time).</summary>
    public TimelinePoint Sample(bool final = false)
    {
        _second.Reset();
        foreach (var shard in _shards)
        {
            shard.Latency.GetIntervalHistogramInto(_scratch);
            _second.Add(_scratch);
        }
        _total.Add(_second);
        var now = Totals.Of(_shards);
        var responses = now.Responses - _previous.Responses;
        var errors = now.Failures - _previous.Failures;
        _previous = now;
        _lastSampleTicks = Stopwatch.GetTimestamp();
        var point = new TimelinePoint(_timeline.Count + 1, responses, errors,
            _second.TotalCount > 0 ? Milliseconds(_second.GetValueAtPercentile(50)) : null,
            _second.TotalCount > 0 ? Milliseconds(_second.GetValueAtPercentile(99)) : null);
        // A last partial second with nothing in it adds nothing to the timeline.
        if (!final || responses > 0 || errors > 0)
        {
            _timeline.Add(point);
        }
        return point;
    }

    /// <summary>Totals and whole-run percentiles as of the last <see cref="Sample"/>, for live progress.</summary>
    public LoadProgress Progress(TimeSpan elapsed, TimelinePoint lastSecond) => new(elapsed, lastSecond,
        _previous.Responses, _previous.Failures,
        _total.TotalCount > 0 ? Milliseconds(_total.GetValueAtPercentile(50)) : null,
        _total.TotalCount > 0 ? Milliseconds(_total.GetValueAtPercentile(99)) : null);

    /// <summary>Everything sampled so far; call after <see cref="Sample"/>.</summary>
    public LoadSummary Summary()
    {
        var totals = _previous;
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var shard in _shards)
        {
            for (var code = 0; code < shard.ErrorsByCode.Length; code++)
            {
                var count = Interlocked.Read(ref shard.ErrorsByCode[code]);
                if (count > 0)
                {
                    Add(errors, ((ErrorCode)code).Name(), count);
                }
            }
            foreach (var (code, count) in shard.OtherErrors)
            {
                Add(errors, ((ErrorCode)code).Name(), count);
            }
            var noAnswer = Interlocked.Read(ref shard.NoAnswers);
            if (noAnswer > 0)
            {
                Add(errors, NoAnswer, noAnswer);
            }
        }
        var latency = _total.TotalCount == 0
            ? new LatencySummary(0, 0, 0, 0, 0, 0)
            : new LatencySummary(
                Milliseconds(_total.GetValueAtPercentile(50)),
                Milliseconds(_total.GetValueAtPercentile(90)),
                Milliseconds(_total.GetValueAtPercentile(99)),
                Milliseconds(_total.GetValueAtPercentile(99.9)),
                Milliseconds(_total.GetMaxValue()),
                Math.Round(_total.GetMean() / 1000.0, 3));
        return new LoadSummary(totals.Answers, totals.Responses, totals.Activated, totals.NotActivated, errors, latency,
            [.. _timeline]);
    }

    private static void Add(SortedDictionary<string, long> errors, string name, long count) =>
        errors[name] = errors.GetValueOrDefault(name) + count;

    private static double Milliseconds(long microseconds) => Math.Round(microseconds / 1000.0, 3);

    /// <summary>What one group of workers records. Counters are only ever incremented.</summary>
    public sealed class Shard
    {
        // The protocol's codes fit here; anything else (a newer host) goes to the dictionary.
        public readonly long[] ErrorsByCode = new long[32];
        public readonly ConcurrentDictionary<ushort, long> OtherErrors = new();
        public readonly Recorder Latency = HistogramFactory.With64BitBucketSize()
            .WithValuesFrom(1).WithValuesUpTo(HighestMicroseconds).WithPrecisionOf(3)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();
        public long Answers;
        public long Activated;
        public long NotActivated;
        public long ErrorResponses;
        public long NoAnswers;

        /// <summary>Records an answer that took <paramref name="microseconds"/> (from send or schedule).</summary>
        public void Record(in ActivationResult result, long microseconds)
        {
            Latency.RecordValue(Math.Clamp(microseconds, 1, HighestMicroseconds));
            if (result.IsError)
            {
                var code = (ushort)result.Error.Code;
                if (code < ErrorsByCode.Length)
                {
                    Interlocked.Increment(ref ErrorsByCode[code]);
                }
                else
                {
                    OtherErrors.AddOrUpdate(code, 1, (_, n) => n + 1);
                }
                Interlocked.Increment(ref ErrorResponses);
                return;
            }
            Interlocked.Increment(ref Answers);
            Interlocked.Increment(ref result.Response.Activated ? ref Activated : ref NotActivated);
        }

        /// <summary>A request that got no answer: timed out, or its connection was lost.</summary>
        public void RecordNoAnswer() => Interlocked.Increment(ref NoAnswers);
    }

    private readonly record struct Totals(long Answers, long Responses, long Activated, long NotActivated, long Failures)
    {
        public static Totals Of(Shard[] shards)
        {
            long answers = 0, errors = 0, activated = 0, notActivated = 0, noAnswers = 0;
            foreach (var s in shards)
            {
                answers += Interlocked.Read(ref s.Answers);
                errors += Interlocked.Read(ref s.ErrorResponses);
                activated += Interlocked.Read(ref s.Activated);
                notActivated += Interlocked.Read(ref s.NotActivated);
                noAnswers += Interlocked.Read(ref s.NoAnswers);
            }
            return new Totals(answers, answers + errors, activated, notActivated, errors + noAnswers);
        }
    }
}

/// <summary>One second of a run: responses (answers and error responses) and errors (error responses and
/// requests without an answer) completed in it, and its latency percentiles (null when nothing answered).</summary>
public sealed record TimelinePoint(int Second, long Responses, long Errors, double? P50Ms, double? P99Ms);

public sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max, double Mean);

/// <summary>The counts and latencies of a run.</summary>
public sealed record LoadSummary(long Answers, long Responses, long Activated, long NotActivated,
    IReadOnlyDictionary<string, long> Errors, LatencySummary Latency, IReadOnlyList<TimelinePoint> Timeline);

/// <summary>A run in progress: the last second, and totals and percentiles since the start.</summary>
public sealed record LoadProgress(TimeSpan Elapsed, TimelinePoint LastSecond, long Responses, long Errors, double? P50Ms, double? P99Ms);
