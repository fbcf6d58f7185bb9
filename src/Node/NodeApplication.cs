using Akka.Hosting;
using KmsCluster.Actors.Entities;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Admin;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dashboard;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Licensing;
using KmsCluster.Node.Logging;
using KmsCluster.Node.Persistence;
using KmsCluster.Node.Registry;
using KmsCluster.Node.RequestLogging;
using KmsCluster.Node.Telemetry;
using Microsoft.Extensions.Options;

namespace KmsCluster.Node;

/// <summary>What a node is made of, feature by feature; <see cref="NodeHost"/> runs it.</summary>
public static class NodeApplication
{
    /// <param name="fence">Closes journal writes after a freeze (cluster members only).</param>
    public static WebApplication Build(NodeOptions options, DnsPublishing dns, DataDirectory data, HostIdentity host,
        JournalStore store, AdminToken adminToken, IWriteFence fence)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        NodeLogging.Configure(builder.Logging, options.LogLevel);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.WindowTimeout + TimeSpan.FromSeconds(10));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(data);
        services.AddSingleton(host);
        services.AddSingleton(store);
        services.AddJournalSequenceGuard(store);
        services.AddSingleton(fence);
        services.AddSingleton(adminToken);
        services.AddSingleton(options.Licensing.Catalog);
        services.AddSingleton(TimeProvider.System);

        services.AddClientRegistry(options, store, data);
        builder.AddActivationEndpoint(options);
        services.AddRequestLog(options);
        builder.AddAdminApi(options);
        services.AddAkka(store.ClusterName, (akka, provider) => akka
            .AddNodeLogging(provider, options.LogLevel)
            .AddJournal(store, fence)
            .AddKmsCluster(options, store.ClusterName, store.LeaseConnectionString)
            .AddActivationActors(options, fence, TimeProvider.System)
            .AddHostKeyLedgerActors(fence, TimeProvider.System));
        // Hosted services start in order: these follow the actor system's.
        services.AddClusterMembership();
        services.AddHostLicensing();
        services.AddDnsPublishing(dns);
        services.AddDashboard();
        services.AddNodeMetrics(options, host);
        services.AddNodeTracing(options);

        var app = builder.Build();
        app.UseAdminToken(adminToken).MapAdminEndpoints().MapDashboard().MapMetricsEndpoint();
        return app;
    }
}
