using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli.Load;

/// <summary>What a finished run measured.</summary>
/// <param name="Elapsed">From the first request to the last answer (or the end of the drain).</param>
/// <param name="Cancelled">Stopped early by the caller (Ctrl+C).</param>
public sealed record LoadResult(LoadOptions Options, LoadSummary Summary, TimeSpan Elapsed, FleetSummary? Fleet, bool Cancelled)
{
    /// <summary>Answers per second over the run.</summary>
    public double Throughput => Elapsed > TimeSpan.Zero ? Summary.Answers / Elapsed.TotalSeconds : 0;

    /// <summary>With --connect-per-request: connections opened per second over the run.</summary>
    public double ConnectionsPerSecond => Elapsed > TimeSpan.Zero && Summary.Connects is { } c ? c.Opened / Elapsed.TotalSeconds : 0;
}

/// <summary>Fleet mode's machines at the end of the run.</summary>
/// <param name="NeverAsked">Machines whose first request was not due yet when the run ended (counted as not activated).</param>
public sealed record FleetSummary(int Machines, int ActivatedMachines, int NotActivatedMachines, long Failovers, int NeverAsked);

/// <summary>A server could not be reached before the run started.</summary>
public sealed class LoadUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The frame of every run: connect, start the workers, sample once a second, stop at the duration, the request
/// count or the caller's cancellation, let in-flight requests answer for <see cref="LoadOptions.DrainTimeout"/>,
/// then abandon the rest and report.
/// </summary>
public abstract class LoadRun
{
    private readonly Action<LoadProgress>? _progress;
    private long _clientTimeTicks = DateTimeOffset.UtcNow.UtcTicks;

    private protected LoadRun(LoadOptions options, Fleet fleet, Action<LoadProgress>? progress)
    {
        Options = options;
        Fleet = fleet;
        _progress = progress;
        Stats = new LoadStats(Math.Min(WorkerCount, Math.Max(2, Environment.ProcessorCount * 2)), options.ConnectPerRequest);
    }

    public LoadOptions Options { get; }
    public Fleet Fleet { get; }
    internal LoadStats Stats { get; }

    /// <summary>Connections (closed and open loop) or clients (fleet).</summary>
    private protected int WorkerCount => Options.Connections;

    /// <summary>Cancelled when no new request may start: the run is over.</summary>
    private protected CancellationToken Stopping { get; private set; }

    /// <summary>Cancelled when requests still in flight are given up.</summary>
    private protected CancellationToken Abandoning { get; private set; }

    /// <summary>When the first request was due (a <see cref="Stopwatch"/> timestamp).</summary>
    private protected long StartTimestamp { get; private set; }

    /// <summary>When the reported part of the run began: the start, or the end of the warm-up.</summary>
    private long _measuredFrom;

    /// <summary>The end of <see cref="LoadOptions.Duration"/>, or <see cref="long.MaxValue"/>.</summary>
    private protected long EndTimestamp { get; private set; } = long.MaxValue;

    /// <summary>The client clock sent in requests; refreshed once a second, so requests need not read the clock.</summary>
    private protected DateTimeOffset ClientTime => new(Volatile.Read(ref _clientTimeTicks), TimeSpan.Zero);

    /// <summary>Runs the whole load; <paramref name="cancellationToken"/> (Ctrl+C) stops it early, with a report.</summary>
    /// <exception cref="LoadUnreachableException">a server cannot be reached at the start.</exception>
    public static Task<LoadResult> RunAsync(LoadOptions options, Fleet fleet, Action<LoadProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (options.ConnectPerRequest && options.Pipeline != 1)
        {
            throw new ArgumentException("a connection per request carries one request: the pipeline must be 1", nameof(options));
        }
        if (options.Warmup is not null && (options.Mode == LoadMode.Fleet || options.Duration is null))
        {
            throw new ArgumentException("a warm-up is for the closed and open loops, with a duration", nameof(options));
        }
        LoadRun run = options.Mode == LoadMode.Fleet ? new FleetRun(options, fleet, progress) : new PacedRun(options, fleet, progress);
        return run.RunAsync(cancellationToken);
    }

    /// <summary>Opens what the run needs; throws <see cref="LoadUnreachableException"/> when a server is unreachable.</summary>
    private protected abstract Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>The tasks that send requests; each ends when the run stops or its work is done.</summary>
    private protected abstract Task[] StartWorkers();

    /// <summary>Closes connections; in-flight requests fail.</summary>
    private protected abstract ValueTask CloseAsync();

    private protected virtual FleetSummary? FleetSummary(long endTimestamp) => null;

    /// <summary>True when workers that finished early (nothing due before the end) still leave the run going until
    /// its duration is over: a fleet waiting for renewals is idle, not done.</summary>
    private protected virtual bool RunsForWholeDuration => false;

    private async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var abandoning = new CancellationTokenSource();
        Stopping = stopping.Token;
        Abandoning = abandoning.Token;
        try
        {
            await ConnectAsync(cancellationToken);
        }
        catch
        {
            await CloseAsync();
            throw;
        }

        StartTimestamp = Stopwatch.GetTimestamp();
        Volatile.Write(ref _measuredFrom, StartTimestamp);
        if (Options.Duration is { } measured)
        {
            // The warm-up runs first, on the same connections and the same schedule, and is not reported.
            var duration = measured + (Options.Warmup ?? TimeSpan.Zero);
            EndTimestamp = StartTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            stopping.CancelAfter(duration);
        }
        using var samplerStop = new CancellationTokenSource();
        var workers = Task.WhenAll(StartWorkers());
        var sampler = SampleAsync(samplerStop.Token);

        // Done when every worker finished its share (--requests) or lost its server for good, or when the run is over.
        var over = Task.Delay(Timeout.Infinite, stopping.Token);
        await Task.WhenAny(workers, over);
        if (RunsForWholeDuration && Options.Duration is not null)
        {
            await over.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        stopping.Cancel();
        if (!workers.IsCompleted)
        {
            await Task.WhenAny(workers, Task.Delay(Options.DrainTimeout));
        }
        var end = Stopwatch.GetTimestamp();
        abandoning.Cancel();
        await CloseAsync();
        await workers;
        await samplerStop.CancelAsync();
        await sampler;

        Stats.Sample(final: true);
        return new LoadResult(Options, Stats.Summary(), Stopwatch.GetElapsedTime(Volatile.Read(ref _measuredFrom), end), FleetSummary(end),
            cancellationToken.IsCancellationRequested);
    }

    private async Task SampleAsync(CancellationToken stop)
    {
        try
        {
            if (Options.Warmup is { } warmup)
            {
                await Task.Delay(warmup, stop);
                Stats.Restart();
                Volatile.Write(ref _measuredFrom, Stopwatch.GetTimestamp());
            }
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(stop))
            {
                Volatile.Write(ref _clientTimeTicks, DateTimeOffset.UtcNow.UtcTicks);
                var second = Stats.Sample();
                _progress?.Invoke(Stats.Progress(Stopwatch.GetElapsedTime(Volatile.Read(ref _measuredFrom)), second));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The request machine <paramref name="machine"/> sends.</summary>
    private protected ActivationRequest RequestFor(int machine, LicenseState state, uint minutesLeft)
    {
        var product = Fleet.Products[Fleet.ProductOf(machine)];
        return new ActivationRequest(Fleet.CmidOf(machine), product.Application.Id, product.Id, (ushort)product.Threshold,
            state, minutesLeft, Fleet.IsVirtualMachine(machine), Fleet.NameOf(machine), ClientTime);
    }

    private protected static TimeSpan ConnectTimeout(LoadOptions options) =>
        options.Timeout < TimeSpan.FromSeconds(5) ? options.Timeout : TimeSpan.FromSeconds(5);

    /// <summary>Connects to every server once, so a wrong address fails before the run, naming the server.</summary>
    private protected static async Task ProbeAsync(IEnumerable<ServerAddress> servers, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var probes = servers.Distinct().Select(async server =>
        {
            try
            {
                var connection = await KmsConnection.ConnectAsync(server.Host, server.Port, timeout, cancellationToken);
                await connection.DisposeAsync();
                return null;
            }
            catch (KmsConnectionException e)
            {
                return e;
            }
        }).ToArray();
        var failures = await Task.WhenAll(probes);
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            throw new LoadUnreachableException(failure.Message, failure);
        }
    }
}
