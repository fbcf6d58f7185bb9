using Akka;
using Akka.Actor;
using Akka.Hosting;
using KmsCluster.Actors.Entities;
using KmsCluster.Actors.Gateway;
using KmsCluster.Actors.Hosting;
using KmsCluster.Actors.Windows;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Hosting;
using KmsCluster.Node.Limits;
using Microsoft.AspNetCore.Connections;

using KmsCluster.Node.Licensing;

namespace KmsCluster.Node.Activation;

/// <summary>The activation protocol: Kestrel listens on every --listen endpoint with <see cref="ActivationConnectionHandler"/>;
/// requests go through <see cref="ActivationService"/> to the node's gateways and on to the sharded windows.</summary>
public static class ActivationHosting
{
    public static WebApplicationBuilder AddActivationEndpoint(this WebApplicationBuilder builder, NodeOptions options)
    {
        var endpoints = new ActivationEndpoints();
        builder.Services.AddSingleton(endpoints);
        var connections = builder.Services.AddAbuseLimits(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in options.Listen)
            {
                // The limiter decides at accept (LimitedTransport); its middleware gives the place back at the end.
                endpoints.ListenLimited(kestrel, endpoint, listen => listen.Use(connections.Wrap).UseConnectionHandler<ActivationConnectionHandler>());
            }
        });
        builder.Services.AddSingleton<NodeStats>();
        builder.Services.AddSingleton<HostCredentials>();
        builder.Services.AddSingleton<AnswerSigner>();
        builder.Services.AddSingleton<ActivationService>();
        return builder;
    }

    /// <summary>The windows (sharded, journaled) and, once the actor system runs, one gateway per application in
    /// front of them, registered in the actor registry as <see cref="ContactGatewaysRef"/>.</summary>
    public static AkkaConfigurationBuilder AddActivationActors(this AkkaConfigurationBuilder akka, NodeOptions options,
        IWriteFence fence, TimeProvider time)
    {
        akka.AddActivationWindows(WindowSettings.Default with { Fence = fence, Grants = options.Grants }, time);
        return akka.WithActors((system, registry) =>
        {
            var gateways = ContactGatewaysRef.Start(
                system,
                registry.Get<ActivationWindowRegion>(),
                options.Licensing.Catalog.Applications.Select(a => a.Id),
                new GatewaySettings(ReplyTimeout: options.WindowTimeout, Grants: options.Grants), time);
            registry.Register<ContactGatewaysRef>(gateways);
            // Before the windows hand off: contacts answered from grants reach them rather than die with the node.
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "send-answered-contacts",
                async () =>
                {
                    await gateways.Gateways.DrainAsync(options.WindowTimeout);
                    return Done.Instance;
                });
        });
    }
}
