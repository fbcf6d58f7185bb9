using KmsCluster.Actors.Entities;
using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Hosting.Logging;
using Akka.Persistence.Sql;
using Akka.Remote.Hosting;
using KmsCluster.Actors.Gateway;
using KmsCluster.Actors.Hosting;
using KmsCluster.Actors.Windows;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Admin;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Licensing;
using KmsCluster.Actors.Licensing;
using KmsCluster.Node.Logging;
using KmsCluster.Node.Persistence;
using KmsCluster.Protocol.Catalog;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsCluster.Node;

/// <summary>Wires one node together: store, Akka.NET cluster with the sharded windows, Kestrel endpoints.</summary>
public static partial class NodeHost
{
    public static async Task<int> RunAsync(NodeOptions options)
    {
        using var bootLogs = LoggerFactory.Create(logging => ConfigureLogging(logging, options));
        var bootLog = bootLogs.CreateLogger("KmsCluster.Node");
        FileStream dataLock;
        JournalStore store;
        HostIdentity host;
        try
        {
            dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
            host = HostIdentity.LoadOrCreate(options.DataDirectory, options.HostName);
            store = options.Database is { } database
                ? await PostgresStore.OpenAsync(database, TimeSpan.FromSeconds(60), message => LogWaiting(bootLog, message),
                    CancellationToken.None)
                : SqliteStore.Open(options.DataDirectory, host.Id);
        }
        catch (NodeOptionsException e)
        {
            await Console.Error.WriteLineAsync($"kms-node: {e.Message}");
            return 2;
        }
        using var dataLease = dataLock;
        var catalog = options.Licensing.Catalog;
        // Only a cluster member can be downed while frozen; a single SQLite node has nobody to fence it from.
        IHostApplicationLifetime? stopping = null;
        using var watchdog = store is PostgresStore
            ? new FreezeWatchdog(ClusterConfig.PresumedDownedAfterFreeze, () => stopping?.StopApplication(), bootLog)
            : null;
        IWriteFence fence = watchdog is null ? OpenFence.Instance : watchdog;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        ConfigureLogging(builder.Logging, options);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.WindowTimeout + TimeSpan.FromSeconds(10));

        var activationEndpoints = new List<ListenOptions>();
        var adminEndpoints = new List<ListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var endpoint in options.Listen)
            {
                Listen(kestrel, endpoint, listen =>
                {
                    listen.UseConnectionHandler<ActivationConnectionHandler>();
                    activationEndpoints.Add(listen);
                });
            }
            Listen(kestrel, options.Admin, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                adminEndpoints.Add(listen);
            });
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(fence);
        builder.Services.AddSingleton<ClusterMembership>();
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton<NodeStats>();
        // SRV record of the first activation endpoint as bound (Kestrel fills in the port of --listen ...:0).
        builder.Services.AddDnsPublishing(options.Dns, () => activationEndpoints.Select(l => l.EndPoint).FirstOrDefault());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ActivationService>();
        builder.Services.AddSingleton<HostLicence>();
        builder.Services.AddSingleton<HostKeyActivation>();
        // Kestrel builds its connection handlers before Akka starts, so the gateways start on first use.
        builder.Services.AddSingleton(sp => new Lazy<ContactGateways>(() => ContactGateways.Start(
            sp.GetRequiredService<ActorSystem>(),
            sp.GetRequiredService<ActorRegistry>().Get<ActivationWindowRegion>(),
            catalog.Applications.Select(a => a.Id),
            new GatewaySettings(ReplyTimeout: options.WindowTimeout))));

        builder.Services.AddAkka(store.ClusterName, (akka, services) =>
        {
            akka.AddSetup(new LoggerFactorySetup(services.GetRequiredService<ILoggerFactory>()));
            akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = AkkaLogLevel(options.LogLevel);
                loggers.ClearLoggers();
                loggers.AddLogger<AkkaLogBridge>();
            });
            akka.AddHocon(store.PersistenceConfig(), HoconAddMode.Prepend);
            if (store.PersistenceSetup() is { } persistenceSetup) akka.AddSetup(persistenceSetup);
            akka.AddHocon(ClusterConfig.Create(options.SplitBrain, store.LeaseConnectionString), HoconAddMode.Prepend);
            akka.AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append);
            akka.WithRemoting(new RemoteOptions
            {
                HostName = options.ClusterHost,
                PublicHostName = options.ClusterHost,
                Port = options.ClusterPort,
            });
            akka.WithClustering(new ClusterOptions
            {
                SeedNodes = options.Seeds.Select(seed => $"akka.tcp://{store.ClusterName}@{seed}").ToArray(),
                Roles = ["kms"],
            });
            akka.AddActivationWindows(WindowSettings.Default with { Fence = fence }, TimeProvider.System);
            akka.AddHostKeyLedgers(LedgerSettings.Default with { Fence = fence }, TimeProvider.System);
            if (options.Seeds.Count == 0)
            {
                // Without seeds a node is a cluster of its own: it joins itself.
                akka.AddStartup((system, _) =>
                {
                    var cluster = Akka.Cluster.Cluster.Get(system);
                    cluster.Join(cluster.SelfAddress);
                });
            }
        });

        var app = builder.Build();
        stopping = app.Lifetime;
        app.MapAdminApi();
        app.MapDnsApi();
        app.MapLicensingApi();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KmsCluster.Node");

        try
        {
            await app.StartAsync();
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

        var membership = app.Services.GetRequiredService<ClusterMembership>();
        membership.Start();
        app.Services.GetRequiredService<HostKeyActivation>().Start();
        _ = app.Services.GetRequiredService<Lazy<ContactGateways>>().Value;
        var system = app.Services.GetRequiredService<ActorSystem>();
        LogReady(log, host.Name, host.Id,
            string.Join(",", activationEndpoints.Select(Describe)),
            string.Join(",", adminEndpoints.Select(Describe)),
            store.Location, Akka.Cluster.Cluster.Get(system).SelfAddress.ToString(), store.Kind);
        await app.WaitForShutdownAsync();
        LogStopped(log, host.Name);
        return membership.WasDowned ? 1 : 0;
    }

    private static void Listen(KestrelServerOptions kestrel, ListenEndpoint endpoint, Action<ListenOptions> configure)
    {
        if (endpoint.IsAnyAddress)
        {
            kestrel.ListenAnyIP(endpoint.Port, configure);
        }
        else if (endpoint.IsLocalhost)
        {
            kestrel.ListenLocalhost(endpoint.Port, configure);
        }
        else
        {
            kestrel.Listen(endpoint.Address!, endpoint.Port, configure);
        }
    }

    /// <summary>The endpoint as bound: with port 0 Kestrel fills in the port it got.</summary>
    private static string Describe(ListenOptions listen) =>
        listen.EndPoint is IPEndPoint ip ? ip.ToString() : listen.ToString() ?? "?";

    private static void ConfigureLogging(ILoggingBuilder logging, NodeOptions options)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.SetMinimumLevel(options.LogLevel);
        // Framework chatter only when asked for Trace.
        if (options.LogLevel > LogLevel.Trace)
        {
            logging.AddFilter("Microsoft", LogLevel.Warning);
            // A failed start is reported in one line by RunAsync, not as the host's stack trace.
            logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }
    }

    private static Akka.Event.LogLevel AkkaLogLevel(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => Akka.Event.LogLevel.DebugLevel,
        LogLevel.Information => Akka.Event.LogLevel.InfoLevel,
        LogLevel.Warning => Akka.Event.LogLevel.WarningLevel,
        _ => Akka.Event.LogLevel.ErrorLevel,
    };

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

    [LoggerMessage(Level = LogLevel.Information,
        Message = "KmsCluster node {HostName} ({HostId}) ready: activation={Activation} admin={Admin} data={Journal} cluster={ClusterAddress} journal={JournalKind}")]
    private static partial void LogReady(ILogger log, string hostName, Guid hostId, string activation, string admin,
        string journal, string clusterAddress, string journalKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogWaiting(ILogger log, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "KmsCluster node {HostName} stopped")]
    private static partial void LogStopped(ILogger log, string hostName);
}
