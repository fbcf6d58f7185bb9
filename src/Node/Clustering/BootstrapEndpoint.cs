using System.Net;
using Akka.Actor;
using Akka.Event;
using Akka.Http.Dsl;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;
using Ceen.Httpd;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// The management endpoint peers probe during cluster bootstrap: Akka.Management's own bootstrap routes
/// (/bootstrap/seed-nodes) on Ceen.Httpd, bound here rather than by AkkaManagement.Start. Akka.Http.Shim 1.5.73 was
/// built against Ceen.Httpd 0.9.9, whose HttpServer.ListenAsync took an IPEndPoint; the feed serves only 0.9.10,
/// where it takes an EndPoint, so AkkaManagement.Start fails with MissingMethodException. The routes, the probing
/// and the join decision stay Akka.Management's.
/// </summary>
internal static class BootstrapEndpoint
{
    /// <summary>Binds the endpoint, then starts the bootstrap (which needs this node's contact point first).
    /// A port that cannot be bound fails the node's start; a server that fails later stops the actor system, as
    /// Akka.Management's own start does.</summary>
    public static async Task StartAsync(ActorSystem system, ClusterDiscovery discovery)
    {
        var log = Akka.Event.Logging.GetLogger(system, typeof(BootstrapEndpoint));
        // A host name binds its first IPv4 address (ClusterDiscovery admits no IPv6 literal), as Akka.Http.Shim does.
        var address = IPAddress.TryParse(discovery.ManagementHost, out var ip)
            ? ip
            : (await System.Net.Dns.GetHostAddressesAsync(discovery.ManagementHost))
                .OrderBy(a => a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork).First();
        var endpoint = new IPEndPoint(address, discovery.ManagementPort);
        // What peers find in discovery, and what the join decision compares them to: the host as configured.
        var self = new Uri($"http://{discovery.ManagementHost}:{discovery.ManagementPort}/");

        var bootstrap = ClusterBootstrap.Get(system);
        // Routes() also records this node's contact point, which the join decision compares the discovered ones to.
        var routes = bootstrap.Routes(ManagementRouteProviderSettings.Create(self, readOnly: true));
        var stopping = new CancellationTokenSource();
        var server = HttpServer.ListenAsync(endpoint, false, new ServerConfig { Router = new AkkaRouter(system, routes) }, stopping.Token);
        if (server.IsFaulted)
        {
            // The node's start fails with this one line (NodeHost prints the innermost exception's message).
            throw new InvalidOperationException(
                $"{DiscoveryFlags.ManagementPort.Flag}: cannot listen on {endpoint}: {server.Exception!.GetBaseException().Message}");
        }
        _ = server.ContinueWith(failed =>
        {
            log.Error(failed.Exception!.GetBaseException(), "cluster bootstrap: the management endpoint {0} failed; stopping", endpoint);
            system.Terminate();
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "management-endpoint", async () =>
        {
            await stopping.CancelAsync();
            await Task.WhenAny(server, Task.Delay(TimeSpan.FromSeconds(5)));
            stopping.Dispose();
            return Akka.Done.Instance;
        });
        log.Info("cluster bootstrap: management endpoint {0} serves {1}", endpoint, self);
        await bootstrap.Start();
    }
}
