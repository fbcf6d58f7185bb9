using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli.Load;

/// <summary>
/// Counters and latency histograms of one run, sharded so workers do not contend: each worker records into its
/// own <see cref="Shard"/> (an HdrHistogram <see cref="Recorder"/> plus counters); once a second the sampler
/// takes every shard's interval histogram and counters, which gives both the timeline and the totals. With
/// --connect-per-request a shard also counts the connections its workers open and fail to open, and how long
/// opening one took (a shard is their <see cref="IConnectObserver"/>).
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
    private readonly LongHistogram? _connectTotal;
    private readonly List<TimelinePoint> _timeline = [];
    private Totals _previous;
    private Totals _baseline;
    private IReadOnlyDictionary<string, long> _baselineErrors = new Dictionary<string, long>();
    private IReadOnlyDictionary<string, long> _baselineConnectErrors = new Dictionary<string, long>();
    private long _lastSampleTicks;

    public LoadStats(int shards, bool connectPerRequest = false)
    {
        _connectTotal = connectPerRequest ? NewHistogram() : null;
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
            if (_connectTotal is not null)
            {
                shard.ConnectLatency.GetIntervalHistogramInto(_scratch);
                _connectTotal.Add(_scratch);
            }
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

    /// <summary>Ends a warm-up: everything recorded so far is dropped, and the totals, percentiles and timeline
    /// count from here. Only the sampler calls this.</summary>
    public void Restart()
    {
        foreach (var shard in _shards)
        {
            shard.Latency.GetIntervalHistogramInto(_scratch);
            shard.ConnectLatency.GetIntervalHistogramInto(_scratch);
        }
        _total.Reset();
        _connectTotal?.Reset();
        _timeline.Clear();
        _previous = _baseline = Totals.Of(_shards);
        _baselineErrors = AllErrors();
        _baselineConnectErrors = ConnectErrors();
        _lastSampleTicks = Stopwatch.GetTimestamp();
    }

    /// <summary>Totals and whole-run percentiles as of the last <see cref="Sample"/>, for live progress.</summary>
    public LoadProgress Progress(TimeSpan elapsed, TimelinePoint lastSecond) => new(elapsed, lastSecond,
        _previous.Responses - _baseline.Responses, _previous.Failures - _baseline.Failures,
        _total.TotalCount > 0 ? Milliseconds(_total.GetValueAtPercentile(50)) : null,
        _total.TotalCount > 0 ? Milliseconds(_total.GetValueAtPercentile(99)) : null,
        _previous.ConnectFailures - _baseline.ConnectFailures);

    /// <summary>Everything sampled so far (since the warm-up); call after <see cref="Sample"/>.</summary>
    public LoadSummary Summary()
    {
        var totals = _previous.Minus(_baseline);
        return new LoadSummary(totals.Answers, totals.Responses, totals.Activated, totals.NotActivated,
            Since(AllErrors(), _baselineErrors), LatencyOf(_total), [.. _timeline],
            _connectTotal is null ? null : new ConnectSummary(totals.Connects, Since(ConnectErrors(), _baselineConnectErrors), LatencyOf(_connectTotal)));
    }

    /// <summary>The counts of <paramref name="now"/> that grew since <paramref name="before"/>, by how much.</summary>
    private static SortedDictionary<string, long> Since(SortedDictionary<string, long> now, IReadOnlyDictionary<string, long> before)
    {
        var grown = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, count) in now)
        {
            var more = count - before.GetValueOrDefault(name);
            if (more > 0) grown[name] = more;
        }
        return grown;
    }

    /// <summary>Error responses by code name and requests without an answer, since the run began.</summary>
    private SortedDictionary<string, long> AllErrors()
    {
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var shard in _shards)
        {
            AddCounts(errors, shard.ErrorsByCode, code => ((ErrorCode)code).Name());
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
        return errors;
    }

    /// <summary>Failures to connect by kind: refused, reset, timeout, no-local-port, other.</summary>
    private SortedDictionary<string, long> ConnectErrors()
    {
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var shard in _shards)
        {
            AddCounts(errors, shard.ConnectErrors, failure => ((ExchangeFailure)failure).ConnectFailureName());
        }
        return errors;
    }

    /// <summary>Adds every count of <paramref name="counts"/> that is not 0 under the name of its index.</summary>
    private static void AddCounts(SortedDictionary<string, long> errors, long[] counts, Func<int, string> nameOf)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            var count = Interlocked.Read(ref counts[i]);
            if (count > 0)
            {
                Add(errors, nameOf(i), count);
            }
        }
    }

    private static LatencySummary LatencyOf(LongHistogram histogram) => histogram.TotalCount == 0
        ? new LatencySummary(0, 0, 0, 0, 0, 0)
        : new LatencySummary(
            Milliseconds(histogram.GetValueAtPercentile(50)),
            Milliseconds(histogram.GetValueAtPercentile(90)),
            Milliseconds(histogram.GetValueAtPercentile(99)),
            Milliseconds(histogram.GetValueAtPercentile(99.9)),
            Milliseconds(histogram.GetMaxValue()),
            Math.Round(histogram.GetMean() / 1000.0, 3));

    private static void Add(SortedDictionary<string, long> errors, string name, long count) =>
        errors[name] = errors.GetValueOrDefault(name) + count;

    private static double Milliseconds(long microseconds) => Math.Round(microseconds / 1000.0, 3);

    /// <summary>What one group of workers records. Counters are only ever incremented.</summary>
    public sealed class Shard : IConnectObserver
    {
        // The protocol's codes fit here; anything else (a newer host) goes to the dictionary.
        public readonly long[] ErrorsByCode = new long[32];
        public readonly ConcurrentDictionary<ushort, long> OtherErrors = new();
        public readonly Recorder Latency = NewRecorder();
        public readonly Recorder ConnectLatency = NewRecorder();
        // Indexed by the connect failures of ExchangeFailure.
        public readonly long[] ConnectErrors = new long[(int)ExchangeFailure.ConnectOther + 1];
        public long Connects;
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

        /// <summary>Records how a request on a connection of its own ended, counting latency from
        /// <paramref name="since"/>; a failure to connect is not a request error (the connect was recorded as it
        /// failed). False when the run gave the request up (the run is over).</summary>
        public bool Record(in PerRequestOutcome outcome, long since)
        {
            if (outcome.IsAnswered)
            {
                Record(outcome.Result, MicrosecondsSince(since));
            }
            else if (outcome.Failure == ExchangeFailure.Aborted)
            {
                return false;
            }
            else if (!outcome.Failure.IsConnectFailure())
            {
                RecordNoAnswer();
            }
            return true;
        }

        void IConnectObserver.Connected(long stopwatchTicks)
        {
            Interlocked.Increment(ref Connects);
            ConnectLatency.RecordValue(Math.Clamp((long)(stopwatchTicks * (1_000_000.0 / Stopwatch.Frequency)), 1, HighestMicroseconds));
        }

        void IConnectObserver.ConnectFailed(ExchangeFailure failure) => Interlocked.Increment(ref ConnectErrors[(int)failure]);

        private static Recorder NewRecorder() => HistogramFactory.With64BitBucketSize()
            .WithValuesFrom(1).WithValuesUpTo(HighestMicroseconds).WithPrecisionOf(3)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();
    }

    private readonly record struct Totals(long Answers, long Responses, long Activated, long NotActivated, long Failures,
        long Connects, long ConnectFailures)
    {
        public static Totals Of(Shard[] shards)
        {
            long answers = 0, errors = 0, activated = 0, notActivated = 0, noAnswers = 0, connects = 0, connectFailures = 0;
            foreach (var s in shards)
            {
                connects += Interlocked.Read(ref s.Connects);
                for (var failure = 0; failure < s.ConnectErrors.Length; failure++)
                {
                    connectFailures += Interlocked.Read(ref s.ConnectErrors[failure]);
                }
                answers += Interlocked.Read(ref s.Answers);
                errors += Interlocked.Read(ref s.ErrorResponses);
                activated += Interlocked.Read(ref s.Activated);
                notActivated += Interlocked.Read(ref s.NotActivated);
                noAnswers += Interlocked.Read(ref s.NoAnswers);
            }
            return new Totals(answers, answers + errors, activated, notActivated, errors + noAnswers, connects, connectFailures);
        }

        public Totals Minus(Totals before) => new(Answers - before.Answers, Responses - before.Responses,
            Activated - before.Activated, NotActivated - before.NotActivated, Failures - before.Failures,
            Connects - before.Connects, ConnectFailures - before.ConnectFailures);
    }
}

/// <summary>One second of a run: responses (answers and error responses) and errors (error responses and
/// requests without an answer) completed in it, and its latency percentiles (null when nothing answered).</summary>
public sealed record TimelinePoint(int Second, long Responses, long Errors, double? P50Ms, double? P99Ms);

public sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max, double Mean);

/// <summary>The counts and latencies of a run; <paramref name="Connects"/> with --connect-per-request only.</summary>
public sealed record LoadSummary(long Answers, long Responses, long Activated, long NotActivated,
    IReadOnlyDictionary<string, long> Errors, LatencySummary Latency, IReadOnlyList<TimelinePoint> Timeline, ConnectSummary? Connects = null);

/// <summary>With --connect-per-request: the connections opened, the failures to open one by kind (refused, reset,
/// timeout, no-local-port, other; not counted in the request errors), and how long opening one took.</summary>
public sealed record ConnectSummary(long Opened, IReadOnlyDictionary<string, long> Errors, LatencySummary Latency)
{
    public long Failed => Errors.Values.Sum();
}

/// <summary>A run in progress: the last second, and totals and percentiles since the start; failures to connect
/// (--connect-per-request) are not in <paramref name="Errors"/>.</summary>
public sealed record LoadProgress(TimeSpan Elapsed, TimelinePoint LastSecond, long Responses, long Errors, double? P50Ms, double? P99Ms,
    long ConnectErrors = 0);
