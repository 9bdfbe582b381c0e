using System.Diagnostics;
using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Cluster.Tests;

/// <summary>
/// A real crash: the worker is another process (Actors.Aggregation.Cluster.Node), killed with <see cref="Process.Kill()"/>
/// while it runs requests. Node A, the test kit's system, is the oldest member and runs Akka's split-brain resolver
/// (keep-oldest), which downs the dead worker by itself; the front answers each of its requests <see cref="NodeFailed"/>
/// exactly once, long before their deadline.
/// </summary>
public sealed class ProcessKillSpecs(ITestOutputHelper output) : AggregationSpec(output, Config, "cluster")
{
    private static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.actor.serialization-settings.allow-unregistered-types = off
        akka.cluster.roles = [front]
        akka.cluster.gossip-interval = 200ms
        akka.cluster.leader-actions-interval = 200ms
        akka.cluster.unreachable-nodes-reaper-interval = 200ms
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-oldest
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        actors.aggregation.front.identify-interval = 200ms
        """);

    private static readonly AggregationDefinition<int, string> Dashboard = Aggregation.For<int>()
        .Fetch("profile", (_, _) => Task.FromResult("unused on the front node"))
        .Build();

    [Fact]
    public async Task Killing_the_worker_process_mid_request_must_answer_each_of_its_requests_NodeFailed_once()
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
        using var worker = StartWorker(cluster.SelfAddress);
        try
        {
            var ready = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("ready ", ready);
            var workerAddress = ready!["ready ".Length..];
            var front = Sys.ActorOf(ClusterAggregatorFront.Props(Dashboard, "/user/dashboard-pool", "worker"), "dashboard");
            await AwaitAssertAsync(async () => Assert.Equal(1, (await FrontStats(front)).Aggregators), TimeSpan.FromSeconds(30), Ms(100));
            Assert.Equal("Name: Alice (child process)", await front.AggregateAsync<int, string>(-1));

            for (var key = 1; key <= 3; key++) front.Tell(new Aggregate<int>(key) { RequestId = $"r-{key}", Timeout = TimeSpan.FromSeconds(40) });
            await AwaitAssertAsync(async () => Assert.Equal(3, (await front.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous)).LiveFetchers),
                Generous, Ms(100)); // running over there
            var killed = Stopwatch.GetTimestamp();
            worker.Kill(entireProcessTree: true);

            var ids = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var failed = await ExpectMsgAsync<AggregateFailed>(TimeSpan.FromSeconds(30));
                Assert.Equal(workerAddress, Assert.IsType<NodeFailed>(failed.Reason).Node);
                ids.Add(failed.RequestId);
            }
            Output.WriteLine($"answered NodeFailed {MsSince(killed):0} ms after the kill");
            Assert.Equal(["r-1", "r-2", "r-3"], ids.Order());
            await ExpectNoMsgAsync(Ms(500));
            var stats = await FrontStats(front);
            Assert.Equal((3, 0, 0), ((int)stats.NodeFailures, stats.InFlight, stats.Aggregators));
            front.Tell(new Aggregate<int>(9)); // nobody left to run it: said at once
            Assert.Equal("no aggregator is available", Assert.IsType<RequestRejected>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Reason);
            await AggregationAssert.NoLeaksAsync(front);
        }
        finally
        {
            if (!worker.HasExited) worker.Kill(entireProcessTree: true);
        }
    }

    private static Process StartWorker(Address seed)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Actors.Aggregation.Cluster.Node.dll");
        Assert.True(File.Exists(dll), $"the worker node is built next to the specs: {dll}");
        var start = new ProcessStartInfo("dotnet", [dll, seed.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true, // closed with the spec: the worker then stops by itself
            UseShellExecute = false,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the worker node");
    }

    private async Task<FrontStats> FrontStats(IActorRef front) => await front.Ask<FrontStats>(GetFrontStats.Instance, Generous);
}
