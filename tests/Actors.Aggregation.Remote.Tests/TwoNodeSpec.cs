using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit.Abstractions;

namespace Actors.Aggregation.Remote.Tests;

/// <summary>
/// Two nodes in one process over Akka.Remote TCP on 127.0.0.1, port 0: the test kit's own system is node A (the requesters),
/// and <see cref="NodeB"/> runs the aggregators. Serialization is strict: <c>allow-unregistered-types = off</c>, so every
/// library message must go through the library's serializer and every key and result through one Akka binds to its type.
/// The throttler transport is applied, so that a spec can silence the link (<see cref="CutAsync"/>); remote DeathWatch gives
/// a silent node up after about a second.
/// </summary>
public abstract class TwoNodeSpec : AggregationSpec
{
    public static readonly Config NodeConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.remote.dot-netty.tcp.applied-adapters = [trttl]
        akka.remote.watch-failure-detector.heartbeat-interval = 200ms
        akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 1s
        akka.remote.watch-failure-detector.unreachable-nodes-reaper-interval = 200ms
        akka.actor.serialization-settings.allow-unregistered-types = off
        akka.loglevel = INFO
        actors.aggregation.abandoned-fetch-grace = 100ms
        """).WithFallback(AggregationSettings.DefaultConfig());

    protected TwoNodeSpec(ITestOutputHelper output) : base(output, NodeConfig)
    {
        NodeB = ActorSystem.Create("node-b", NodeConfig.WithFallback(SpecConfig));
    }

    protected ActorSystem NodeB { get; }

    /// <summary>An aggregator started on node B, as node A sees it: a remote ref, resolved over the wire.</summary>
    protected async Task<IActorRef> AggregatorOnNodeB<TKey>(AggregationDefinition<TKey> definition, string name, AggregationSettings? settings = null)
    {
        NodeB.ActorOf(AggregatorActor.Props(definition, settings), name);
        var address = ((ExtendedActorSystem)NodeB).Provider.DefaultAddress;
        return await Sys.ActorSelection(new RootActorPath(address) / "user" / name).ResolveOne(Generous);
    }

    /// <summary>The aggregator as node B itself sees it, to read its stats and leak report locally.</summary>
    protected async Task<IActorRef> LocalOnNodeB(string name) => await NodeB.ActorSelection($"/user/{name}").ResolveOne(Generous);

    /// <summary>Drops every message between the two nodes, both ways, as a crashed node or a dead network would.</summary>
    protected async Task CutAsync()
    {
        foreach (var (from, to) in new[] { (Sys, NodeB), (NodeB, Sys) })
        {
            var transport = ((Akka.Remote.RemoteActorRefProvider)((ExtendedActorSystem)from).Provider).Transport;
            var address = ((ExtendedActorSystem)to).Provider.DefaultAddress;
            Xunit.Assert.True(await transport.ManagementCommand(new Akka.Remote.Transport.SetThrottle(address,
                Akka.Remote.Transport.ThrottleTransportAdapter.Direction.Both, Akka.Remote.Transport.Blackhole.Instance)));
        }
    }

    protected override void AfterAll()
    {
        NodeB.Terminate().Wait(Generous);
        base.AfterAll();
    }
}
