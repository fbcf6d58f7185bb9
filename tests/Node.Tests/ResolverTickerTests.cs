using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using KmsCluster.Node.Clustering;

namespace KmsCluster.Node.Tests;

/// <summary>The ticker reaches into Akka.Cluster's internals: these fail when an Akka upgrade moves them.</summary>
public sealed class ResolverTickerTests
{
    [Fact]
    public void Akka_Cluster_still_has_the_resolver_tick_message() => Assert.NotNull(ResolverTicker.Tick);

    [Fact]
    public async Task The_resolver_is_where_the_ticker_looks_and_handles_the_extra_ticks()
    {
        using var system = ActorSystem.Create("ticker-test", ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            akka.cluster.split-brain-resolver.active-strategy = keep-majority
            akka.loglevel = WARNING
            """));
        Akka.Cluster.Cluster.Get(system); // starts the cluster's daemons, the resolver among them
        var undelivered = Inbox.Create(system);
        system.EventStream.Subscribe(undelivered.Receiver, typeof(UnhandledMessage));
        system.EventStream.Subscribe(undelivered.Receiver, typeof(DeadLetter));

        // The daemons start asynchronously.
        IActorRef? resolver = null;
        for (var attempt = 0; attempt < 50 && resolver is null; attempt++)
        {
            await Task.Delay(200);
            resolver = (await system.ActorSelection(ResolverTicker.ResolverPath).Ask<ActorIdentity>(new Identify(null),
                TimeSpan.FromSeconds(5))).Subject;
        }
        Assert.NotNull(resolver);

        system.ActorOf(Props.Create(() => new ResolverTicker(ResolverTicker.Tick!)), "resolver-ticker");
        // Several ticks go out in this time; the resolver takes every one.
        await Task.Delay(ResolverTicker.Interval * 5);
        await Assert.ThrowsAsync<TimeoutException>(() => undelivered.ReceiveAsync(TimeSpan.FromMilliseconds(200)));
        await system.Terminate();
    }
}
