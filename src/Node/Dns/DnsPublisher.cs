using System.Globalization;
using System.Net;

namespace KmsCluster.Node.Dns;

/// <summary>Back-off and time limits of <see cref="DnsPublisher"/>; tests shorten them.</summary>
public sealed record DnsPublisherTimings(TimeSpan FirstRetry, TimeSpan LongestRetry, TimeSpan RemoveTimeout)
{
    /// <summary>Retry after 1 s, doubling up to 5 min (with jitter); give the removal at shutdown 5 s.</summary>
    public static readonly DnsPublisherTimings Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5));

    /// <summary>
    /// The wait after <paramref name="failuresInARow"/> failures: <see cref="FirstRetry"/> doubled per failure up to
    /// <see cref="LongestRetry"/>, then a random point in its upper half (<paramref name="random"/> in [0, 1)), so
    /// nodes that failed together do not retry together.
    /// </summary>
    public TimeSpan Backoff(int failuresInARow, double random)
    {
        var exponent = Math.Clamp(failuresInARow - 1, 0, 30);
        var ceiling = Math.Min(FirstRetry.TotalMilliseconds * Math.Pow(2, exponent), LongestRetry.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + 0.5 * Math.Clamp(random, 0, 1)));
    }
}

/// <summary>
/// Publishes the node in DNS while it runs (<c>--dns-publish</c>): once the activation endpoint is bound, adds its
/// SRV record (and the target's A/AAAA records when asked) by dynamic update, re-registers every
/// <c>--dns-refresh</c>, retries failures with exponential back-off, and deletes its own records on graceful
/// shutdown. It runs beside the activation path and never holds it up: a DNS server that refuses or does not
/// answer only shows in the log and the admin API.
/// </summary>
public sealed partial class DnsPublisher(
    DnsPublishingStatus status,
    IDnsUpdater updater,
    Func<int?> activationPort,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DnsPublisher> log,
    DnsPublisherTimings? timings = null) : BackgroundService
{
    private readonly DnsPublisherTimings _timings = timings ?? DnsPublisherTimings.Default;
    private DnsRegistration? _registration;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The SRV record names the port Kestrel actually bound (--listen ...:0 picks one at start).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        if (activationPort() is not { } port)
        {
            LogNoEndpoint(log);
            return;
        }
        // Shutdown begins with ApplicationStopping, before any service stops: the record goes first, so clients
        // stop being sent here while the node still drains its connections.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        await PublishAsync(port, stopping.Token);
        await RemoveAsync(CancellationToken.None);
    }

    /// <summary>Registers, then re-registers every refresh interval, retrying failures, until stopped.</summary>
    internal async Task PublishAsync(int port, CancellationToken stoppingToken)
    {
        var settings = status.Settings;
        var registration = new DnsRegistration(settings, port);
        Volatile.Write(ref _registration, registration);
        status.Starting(port);
        while (!stoppingToken.IsCancellationRequested)
        {
            status.Attempting(time.GetUtcNow());
            DnsUpdateOutcome outcome;
            try
            {
                outcome = await updater.RegisterAsync(registration, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug or an unexpected library failure must not end publishing for good: treat it as a failure.
                outcome = DnsUpdateOutcome.Failure($"{e.GetType().Name}: {e.Message}");
            }
            var now = time.GetUtcNow();
            TimeSpan wait;
            if (outcome.Succeeded)
            {
                wait = settings.Refresh;
                status.Succeeded(now, now + wait);
                LogPublished(log, registration.SrvText, settings.Server.ToString(), Addresses(settings), Describe(wait));
            }
            else
            {
                var failures = status.Failed(now, outcome.Error ?? "failed");
                wait = _timings.Backoff(failures, Random.Shared.NextDouble());
                status.Scheduled(now + wait);
                LogFailed(log, settings.Owner, settings.Server.ToString(), outcome.Error ?? "failed", failures, Describe(wait));
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Deletes this node's records, waiting at most the removal timeout.</summary>
    internal async Task RemoveAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _registration) is not { } registration)
        {
            return; // Never started: nothing of ours can be in DNS from this run.
        }
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timings.RemoveTimeout);
        DnsUpdateOutcome outcome;
        try
        {
            outcome = await updater.RemoveAsync(registration, limit.Token);
        }
        catch (OperationCanceledException)
        {
            outcome = DnsUpdateOutcome.Failure(string.Create(CultureInfo.InvariantCulture,
                $"no answer from DNS server {registration.Settings.Server} in {_timings.RemoveTimeout.TotalSeconds:0.#} s"));
        }
        catch (Exception e)
        {
            outcome = DnsUpdateOutcome.Failure($"{e.GetType().Name}: {e.Message}");
        }
        status.Removed(time.GetUtcNow(), outcome);
        if (outcome.Succeeded)
        {
            LogRemoved(log, registration.SrvText, registration.Settings.Server.ToString());
        }
        else
        {
            LogRemoveFailed(log, registration.SrvText, registration.Settings.Server.ToString(), outcome.Error ?? "failed");
        }
    }

    private static string Addresses(DnsPublishing settings) =>
        settings.Addresses.Count == 0 ? "" : $" and {settings.Target} {string.Join(" ", settings.Addresses.Select(Describe))}";

    private static string Describe(IPAddress address) =>
        $"{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "AAAA" : "A")} {address}";

    private static string Describe(TimeSpan wait) => wait switch
    {
        { TotalDays: >= 1 } when wait.TotalDays == Math.Floor(wait.TotalDays) => $"{wait.TotalDays:0}d",
        { TotalHours: >= 1 } when wait.TotalHours == Math.Floor(wait.TotalHours) => $"{wait.TotalHours:0}h",
        { TotalMinutes: >= 1 } when wait.TotalMinutes == Math.Floor(wait.TotalMinutes) => $"{wait.TotalMinutes:0}m",
        _ => string.Create(CultureInfo.InvariantCulture, $"{wait.TotalSeconds:0.#}s"),
    };

    [LoggerMessage(Level = LogLevel.Information,
        Message = "DNS publishing succeeded: {Record}{Addresses} at {Server}; next refresh in {Next}")]
    private static partial void LogPublished(ILogger log, string record, string server, string addresses, string next);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "DNS publishing failed: {Owner} at {Server}: {Error} (failure {Failures} in a row; retry in {Next}); activations go on")]
    private static partial void LogFailed(ILogger log, string owner, string server, string error, int failures, string next);

    [LoggerMessage(Level = LogLevel.Information, Message = "DNS record removed: {Record} at {Server}")]
    private static partial void LogRemoved(ILogger log, string record, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DNS record removal failed: {Record} at {Server}: {Error}; it stays until deleted")]
    private static partial void LogRemoveFailed(ILogger log, string record, string server, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DNS publishing skipped: no activation endpoint is bound")]
    private static partial void LogNoEndpoint(ILogger log);
}
