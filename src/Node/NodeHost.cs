using KmsCluster.Actors.Entities;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Admin;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Logging;
using KmsCluster.Node.Persistence;

namespace KmsCluster.Node;

/// <summary>Runs one node: takes its data directory and journal, builds it (<see cref="NodeApplication"/>),
/// starts it, reports it ready and waits for it to stop.</summary>
public static partial class NodeHost
{
    public static async Task<int> RunAsync(NodeOptions options, DnsPublishing dns)
    {
        using var bootLogs = LoggerFactory.Create(logging => NodeLogging.Configure(logging, options.LogLevel));
        var bootLog = bootLogs.CreateLogger("KmsCluster.Node");
        var data = new DataDirectory(options.DataDirectory);
        FileStream dataLock;
        HostIdentity host;
        JournalStore store;
        AdminToken adminToken;
        try
        {
            NodeReadyReport.Remove(options.ReadyFile);
            dataLock = data.Lock();
            host = HostIdentity.LoadOrCreate(data, options.HostName);
            adminToken = AdminToken.Load(options.AdminTokenFile, data);
            store = await JournalHosting.OpenJournalAsync(options, data, host.Id, message => LogWaiting(bootLog, message));
        }
        catch (Exception e) when (e is NodeOptionsException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kms-node: {e.Message}");
            return 2;
        }
        using var dataLease = dataLock;

        // Only a cluster member can be downed while frozen; a single SQLite node has nobody to fence it from.
        IHostApplicationLifetime? stopping = null;
        using var watchdog = store is PostgresStore
            ? new FreezeWatchdog(ClusterConfig.PresumedDownedAfterFreeze, () => stopping?.StopApplication(), bootLog)
            : null;
        var app = NodeApplication.Build(options, dns, data, host, store, adminToken, watchdog is null ? OpenFence.Instance : watchdog);
        stopping = app.Lifetime;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KmsCluster.Node");

        if (await StartAsync(app) is { } failed)
        {
            return failed;
        }
        var ready = NodeReadyReport.Collect(app.Services);
        NodeReadyReport.Log(log, ready);
        if (options.ReadyFile is { } readyFile && !await TryWriteReadyFile(app, readyFile, ready))
        {
            return 2;
        }
        await app.WaitForShutdownAsync();
        NodeReadyReport.Remove(options.ReadyFile);
        LogStopped(log, host.Name);
        return app.Services.GetRequiredService<ClusterMembership>().WasDowned ? 1 : 0;
    }

    /// <summary>Starts the host; on failure prints one line and returns the exit code.</summary>
    private static async Task<int?> StartAsync(WebApplication app)
    {
        try
        {
            await app.StartAsync();
            return null;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"kms-node: cannot listen: {e.Message}");
            await StopQuietly(app);
            return 2;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"kms-node: start-up failed: {e.GetBaseException().Message}");
            await StopQuietly(app);
            return 1;
        }
    }

    private static async Task<bool> TryWriteReadyFile(WebApplication app, string path, Protocol.Admin.NodeReady ready)
    {
        try
        {
            NodeReadyReport.Write(path, ready);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kms-node: {NodeFlags.ReadyFile.Flag}: cannot write {path}: {e.Message}");
            await StopQuietly(app);
            return false;
        }
    }

    private static async Task StopQuietly(WebApplication app)
    {
        try
        {
            await app.StopAsync();
        }
        catch (Exception)
        {
            // Start-up already failed; the first error is the one that matters.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogWaiting(ILogger log, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "KmsCluster node {HostName} stopped")]
    private static partial void LogStopped(ILogger log, string hostName);
}
