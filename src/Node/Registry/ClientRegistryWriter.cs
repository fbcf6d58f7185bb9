using KmsCluster.Node.Activation;

namespace KmsCluster.Node.Registry;

/// <summary>
/// The one writer of this node's registry rows: every <see cref="FlushInterval"/> it drains up to
/// <see cref="MaxContactsPerFlush"/> contacts from the <see cref="RegistryFeed"/>, keeps the latest contact of each
/// machine, and upserts them in batches of <see cref="ClientRegistryStore.BatchRows"/>; small, frequent flushes
/// rather than one a second, so its CPU comes in slices the answers do not queue behind. The cap bounds what the registry takes from the answers
/// (CPU, and SQLite's one write lock) under any load; beyond it the feed drops. A batch that fails (the database is
/// down) is counted as dropped: the machines reappear with their next contact. Once an hour it deletes the rows
/// silent longer than the retention.
/// </summary>
public sealed partial class ClientRegistryWriter(
    RegistryFeed feed,
    ClientRegistryStore store,
    HostIdentity host,
    TimeSpan retention,
    TimeProvider time,
    ILogger<ClientRegistryWriter> log) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Contacts written a second at most: each costs the answers CPU (open-loop p99 at 90,000 answers/s: 3.6 ms
    /// without the registry, 4.4-4.9 at 500 a second, 5.4-6.4 at 2,000). A real fleet sends far fewer: a million
    /// machines renewing weekly make under 2 contacts a second, all retrying every 2 hours under 140, a million
    /// booting within one hour under 300.</summary>
    public const int MaxContactsPerSecond = 500;

    public const int MaxContactsPerFlush = MaxContactsPerSecond / 4;

    private static readonly TimeSpan RetentionInterval = TimeSpan.FromHours(1);

    private DateTimeOffset _nextRetention = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.EnsureSchemaAsync(cancellationToken);
        if (store.SearchIndexMissing is { } why) LogSearchIndexMissing(why);
        // Before the node serves: the admin API never shows a machine past its retention.
        await EnforceRetentionAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>On a thread of its own: SQLite's calls are synchronous under their async names, and a thread-pool
    /// worker held for a batch's milliseconds delayed the answers queued behind it (open-loop p99 6 ms against 4
    /// without the registry at 90,000 answers/s); PostgreSQL's waits block only this thread.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "client-registry-writer",
        };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            EnforceRetentionAsync(stoppingToken).GetAwaiter().GetResult();
            FlushAsync(MaxContactsPerFlush, CancellationToken.None).GetAwaiter().GetResult();
            stoppingToken.WaitHandle.WaitOne(FlushInterval);
        }
        // Stopping: what was answered before the listeners closed is still written.
        FlushAsync(feed.Capacity, CancellationToken.None).GetAwaiter().GetResult();
    }

    private async Task FlushAsync(int budget, CancellationToken cancellationToken)
    {
        while (budget > 0)
        {
            var rows = feed.Drain(Math.Min(budget, store.BatchRows), out var taken);
            budget -= taken;
            if (rows.Count == 0)
            {
                return;
            }
            try
            {
                await store.UpsertAsync(rows.Values, host.Name, cancellationToken);
                feed.Written(rows.Count, time.GetUtcNow());
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                feed.Lost(taken);
                LogWriteFailed(rows.Count, e.Message);
                return;
            }
        }
    }

    private async Task EnforceRetentionAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < _nextRetention)
        {
            return;
        }
        _nextRetention = now + RetentionInterval;
        try
        {
            var deleted = await store.DeleteSilentAsync(now - retention, cancellationToken);
            if (deleted > 0)
            {
                LogRetention(deleted, retention.TotalDays);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            LogRetentionFailed(e.Message);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client registry: {Rows} machines not recorded, the write failed: {Reason}")]
    private partial void LogWriteFailed(int rows, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client registry: {Rows} machines silent for more than {Days:0.#} days dropped")]
    private partial void LogRetention(int rows, double days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client registry: no search index ({Reason}); a search reads every row")]
    private partial void LogSearchIndexMissing(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client registry: retention delete failed: {Reason}")]
    private partial void LogRetentionFailed(string reason);
}
