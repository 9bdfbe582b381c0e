using System.Collections.Concurrent;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Cluster.Tests;

/// <summary>
/// A three-node cluster in one process over Akka.Remote TCP on 127.0.0.1, port 0: the test kit's system is node A (role
/// <c>front</c>, the requesters and the cluster front), <see cref="NodeB"/> and <see cref="NodeC"/> are workers (role
/// <c>worker</c>) that each run a pool of aggregators at <c>/user/dashboard-pool</c>. The throttler transport is applied, so a
/// spec can cut a node off (<see cref="Blackhole"/>) and heal it; downing is manual (<c>Cluster.Down</c>), failure detection
/// is fast. Serialization is strict: unregistered types are refused.
/// </summary>
public abstract class ThreeNodeSpec : AggregationSpec
{
    private static Config NodeConfig(string role) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.remote.dot-netty.tcp.applied-adapters = [trttl]
        akka.actor.serialization-settings.allow-unregistered-types = off
        akka.cluster.roles = [{{role}}]
        akka.cluster.downing-provider-class = ""
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.cluster.gossip-interval = 200ms
        akka.cluster.leader-actions-interval = 200ms
        akka.cluster.unreachable-nodes-reaper-interval = 200ms
        akka.cluster.periodic-tasks-initial-delay = 100ms
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.cluster.failure-detector.expected-response-after = 200ms
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.loglevel = INFO
        actors.aggregation.abandoned-fetch-grace = 100ms
        actors.aggregation.front.identify-interval = 200ms
        """).WithFallback(AggregationSettings.DefaultConfig());

    /// <summary>Keys of the workers' aggregation: each request records its token here, by key.</summary>
    protected readonly ConcurrentDictionary<int, (TokenProbe Probe, string Node)> Fetches = new();

    protected ThreeNodeSpec(ITestOutputHelper output) : base(output, NodeConfig("front"), "cluster") // one cluster: one system name
    {
        NodeB = ActorSystem.Create("cluster", NodeConfig("worker").WithFallback(SpecConfig));
        NodeC = ActorSystem.Create("cluster", NodeConfig("worker").WithFallback(SpecConfig));
    }

    protected ActorSystem NodeB { get; }

    protected ActorSystem NodeC { get; }

    protected Address AddressOf(ActorSystem node) => Akka.Cluster.Cluster.Get(node).SelfAddress;

    /// <summary>
    /// What each worker runs: a fetch that answers at once for a negative key, after a second for a key of 1000 or more,
    /// and otherwise waits, honouring its token, for as long as the request's deadline, recording its token and its node
    /// under its key.
    /// </summary>
    protected AggregationDefinition<int, string> Dashboard(ActorSystem node) => Aggregation.For<int>()
        .Fetch("profile", async context =>
        {
            if (context.Key < 0) return $"Name: Alice ({AddressOf(node).Port})";
            if (context.Key >= 1000)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), context.CancellationToken);
                return $"Name: Alice ({AddressOf(node).Port})";
            }
            var probe = new TokenProbe();
            Fetches[context.Key] = (probe, AddressOf(node).ToString());
            probe.Attach(context.CancellationToken);
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return "never";
        })
        .WithTimeout(TimeSpan.FromSeconds(20))
        .Build();

    /// <summary>Forms the cluster (A first, then B and C join it), starts each worker's pool, and waits until all three are up.</summary>
    protected async Task FormClusterAsync(int instancesPerWorker = 2)
    {
        var seed = AddressOf(Sys);
        await Akka.Cluster.Cluster.Get(Sys).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(20));
        foreach (var node in new[] { NodeB, NodeC })
        {
            node.ActorOf(AggregatorFront.Pool(Dashboard(node), instancesPerWorker), "dashboard-pool");
            await Akka.Cluster.Cluster.Get(node).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(20));
        }
        await AwaitAssertAsync(() => Assert.Equal(3, Akka.Cluster.Cluster.Get(Sys).State.Members.Count(m => m.Status == MemberStatus.Up)),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
    }

    /// <summary>A cluster front on node A, once it has found both workers' pools.</summary>
    protected async Task<IActorRef> FrontAsync(string name, AggregatorFrontSettings? settings = null)
    {
        var front = Sys.ActorOf(ClusterAggregatorFront.Props(Dashboard(Sys), "/user/dashboard-pool", "worker", settings), name);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await FrontStatsAsync(front)).Aggregators), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        return front;
    }

    protected async Task<FrontStats> FrontStatsAsync(IActorRef front) => await front.Ask<FrontStats>(GetFrontStats.Instance, Generous);

    protected async Task<IActorRef> PoolOn(ActorSystem node) => await node.ActorSelection("/user/dashboard-pool").ResolveOne(Generous);

    /// <summary>Cuts <paramref name="node"/> off from the two others, both ways, or heals it (<paramref name="cut"/> false).</summary>
    protected async Task Blackhole(ActorSystem node, bool cut = true)
    {
        ThrottleMode mode = cut ? Akka.Remote.Transport.Blackhole.Instance : Unthrottled.Instance;
        foreach (var other in new[] { Sys, NodeB, NodeC }.Where(n => n != node))
        {
            var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)other).Provider).Transport;
            Assert.True(await transport.ManagementCommand(new SetThrottle(AddressOf(node), ThrottleTransportAdapter.Direction.Both, mode)));
        }
    }

    protected override void AfterAll()
    {
        Task.WaitAll([NodeB.Terminate(), NodeC.Terminate()], TimeSpan.FromSeconds(20));
        base.AfterAll();
    }
}
