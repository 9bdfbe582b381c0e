using Actors.Aggregation.Testing;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Cluster.Tests;

/// <summary>
/// A cluster front on node A over the worker pools of B and C: requests spread over both, a cancel reaching the node that
/// runs its request, and exactly one answer for every request when a node is downed mid-request or cut off (with the
/// unreachable opt-in), nothing left running on the surviving nodes.
/// </summary>
public sealed class ClusterFrontSpecs(ITestOutputHelper output) : ThreeNodeSpec(output)
{
    [Fact]
    public async Task The_front_must_spread_requests_over_every_worker_and_route_each_cancel_to_the_node_that_runs_it()
    {
        await FormClusterAsync();
        var front = await FrontAsync("dashboard");

        var answers = new HashSet<string>();
        for (var i = 1; i <= 6; i++) answers.Add(await front.AggregateAsync<int, string>(-i));
        Assert.Equal(2, answers.Count); // "Name: Alice (port)" from each worker

        for (var key = 1; key <= 4; key++) front.Tell(new Aggregate<int>(key) { RequestId = $"r-{key}" });
        await AwaitAssertAsync(() => Assert.Equal(4, Fetches.Count), Generous);
        Assert.Equal(2, Fetches.Values.Select(f => f.Node).Distinct().Count());
        for (var key = 1; key <= 4; key++) front.Tell(new CancelAggregate($"r-{key}"));
        for (var key = 1; key <= 4; key++)
            Assert.Equal(AggregationCancelled.ByRequester, Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Reason);
        await Task.WhenAll(Fetches.Values.Select(f => f.Probe.WhenCancelled()));

        await AggregationAssert.NoLeaksAsync(await PoolOn(NodeB));
        await AggregationAssert.NoLeaksAsync(await PoolOn(NodeC));
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task A_node_downed_mid_request_must_have_its_requests_answered_NodeFailed_once_and_the_others_go_on()
    {
        await FormClusterAsync();
        var front = await FrontAsync("dashboard");
        for (var key = 1; key <= 4; key++) front.Tell(new Aggregate<int>(key) { RequestId = $"r-{key}", Timeout = TimeSpan.FromSeconds(15) });
        await AwaitAssertAsync(() => Assert.Equal(4, Fetches.Count), Generous);
        var lost = AddressOf(NodeC).ToString();
        var onC = Fetches.Where(f => f.Value.Node == lost).Select(f => $"r-{f.Key}").Order().ToArray();
        var onB = Fetches.Where(f => f.Value.Node != lost).Select(f => f.Key).ToArray();

        await Blackhole(NodeC);
        await AwaitAssertAsync(() => Assert.Contains(Akka.Cluster.Cluster.Get(Sys).State.Unreachable, m => m.Address.ToString() == lost),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Akka.Cluster.Cluster.Get(Sys).Down(AddressOf(NodeC));

        var failed = new List<AggregateFailed>();
        foreach (var _ in onC) failed.Add(await ExpectMsgAsync<AggregateFailed>(TimeSpan.FromSeconds(10)));
        Assert.Equal(onC, failed.Select(f => f.RequestId).Order());
        Assert.All(failed, f => Assert.Equal(lost, Assert.IsType<NodeFailed>(f.Reason).Node));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // B's requests run on, and C's get nothing more
        Assert.All(onB, key => Assert.False(Fetches[key].Probe.WasCancelled));

        foreach (var key in onB) front.Tell(new CancelAggregate($"r-{key}"));
        foreach (var _ in onB) Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal("Name: Alice (" + AddressOf(NodeB).Port + ")", await front.AggregateAsync<int, string>(-1)); // only B is left
        var stats = await FrontStatsAsync(front);
        Assert.Equal((onC.Length, 0, 1), (stats.NodeFailures, stats.InFlight, stats.Aggregators));
        await AggregationAssert.NoLeaksAsync(await PoolOn(NodeB));
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task With_the_opt_in_an_unreachable_node_must_fail_its_requests_at_once_and_get_requests_again_when_it_heals()
    {
        await FormClusterAsync();
        var front = await FrontAsync("dashboard", AggregatorFrontSettings.Create(Sys).WithFailOnUnreachable(true));
        for (var key = 1; key <= 4; key++) front.Tell(new Aggregate<int>(key) { RequestId = $"r-{key}", Timeout = TimeSpan.FromSeconds(3) });
        await AwaitAssertAsync(() => Assert.Equal(4, Fetches.Count), Generous);
        var cut = AddressOf(NodeC).ToString();
        var onC = Fetches.Where(f => f.Value.Node == cut).Select(f => $"r-{f.Key}").Order().ToArray();
        var onB = Fetches.Where(f => f.Value.Node != cut).Select(f => $"r-{f.Key}").Order().ToArray();

        await Blackhole(NodeC);

        // Well inside the 3 s deadline: the failure detector's verdict, not the deadline, nor a removal (downing is manual).
        var replies = new List<AggregateFailed>();
        for (var i = 0; i < 4; i++) replies.Add(await ExpectMsgAsync<AggregateFailed>(TimeSpan.FromSeconds(10)));
        Assert.Equal(onC, replies.Where(r => r.Reason is NodeFailed).Select(r => r.RequestId).Order());
        Assert.All(replies.Where(r => r.Reason is NodeFailed), r => Assert.True(r.Elapsed < TimeSpan.FromSeconds(3), $"answered after {r.Elapsed}"));
        Assert.Equal(onB, replies.Where(r => r.Reason is DeadlineExceeded).Select(r => r.RequestId).Order());
        Assert.Equal(1, (await FrontStatsAsync(front)).Aggregators);

        await Blackhole(NodeC, cut: false);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await FrontStatsAsync(front)).Aggregators), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        var answers = new HashSet<string>();
        for (var i = 1; i <= 4; i++) answers.Add(await front.AggregateAsync<int, string>(-i));
        Assert.Equal(2, answers.Count);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // a late reply from C is dropped, never delivered twice
        await AggregationAssert.NoLeaksAsync(await PoolOn(NodeC), TimeSpan.FromSeconds(10)); // C's requests ended at their deadline
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task A_worker_leaving_under_load_must_finish_its_requests_and_every_request_be_answered_once_without_a_failure()
    {
        await FormClusterAsync();
        // What WithClusterAggregator registers on a worker: drain in service-unbind, then stop in service-requests-done.
        var poolB = await PoolOn(NodeB);
        var shutdown = CoordinatedShutdown.Get(NodeB);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "drain", async () =>
        {
            await AggregatorFront.DrainAsync(poolB, TimeSpan.FromSeconds(4));
            return Akka.Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "stop", async () =>
        {
            await poolB.GracefulStop(TimeSpan.FromSeconds(4));
            return Akka.Done.Instance;
        });
        var front = await FrontAsync("dashboard");
        var portB = AddressOf(NodeB).Port;

        var calls = Enumerable.Range(0, 10).Select(i => front.AggregateAsync<int, string>(1000 + i, TimeSpan.FromSeconds(15))).ToList();
        await AwaitAssertAsync(async () => Assert.True((await StatsAsync(poolB)).InFlight > 0), Generous, TimeSpan.FromMilliseconds(20));
        var leaving = Akka.Cluster.Cluster.Get(NodeB).LeaveAsync();
        calls.AddRange(Enumerable.Range(10, 10).Select(i => front.AggregateAsync<int, string>(1000 + i, TimeSpan.FromSeconds(15))));

        var answers = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30)); // any failure would throw here
        Assert.All(answers, a => Assert.StartsWith("Name: Alice (", a));
        Assert.Contains(answers, a => a.Contains($"({portB})", StringComparison.Ordinal)); // B finished what it ran
        await leaving.WaitAsync(TimeSpan.FromSeconds(30));
        await NodeB.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await FrontStatsAsync(front)).Aggregators), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, (await FrontStatsAsync(front)).NodeFailures);
        await AggregationAssert.NoLeaksAsync(await PoolOn(NodeC));
        await AggregationAssert.NoLeaksAsync(front);
    }

    /// <summary>Never answers; tells the spec it got the question.</summary>
    private sealed class SilentService : ReceiveActor
    {
        public SilentService(TaskCompletionSource asked) => ReceiveAny(_ => asked.TrySetResult());
    }

    [Fact]
    public async Task An_ask_fetcher_with_the_opt_in_must_fail_as_soon_as_its_targets_node_is_unreachable()
    {
        await FormClusterAsync();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        NodeC.ActorOf(Props.Create(() => new SilentService(asked)), "profile-service");
        var service = await Sys.ActorSelection(new RootActorPath(AddressOf(NodeC)) / "user" / "profile-service").ResolveOne(Generous);
        ClusterAggregation.WatchReachability(Sys);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<string, string>("profile", service, key => $"profile {key}", reply => reply, failOnUnreachable: true)
            .WithTimeout(TimeSpan.FromSeconds(20))
            .Build()), "asking");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "ask-c" });
        await asked.Task.WaitAsync(Generous);
        await Blackhole(NodeC);

        var failed = await ExpectMsgAsync<AggregateFailed>(TimeSpan.FromSeconds(15));
        var reason = Assert.IsType<FetcherFailed>(failed.Reason);
        Assert.IsType<AskTargetUnreachableException>(reason.Exception);
        Assert.Contains(AddressOf(NodeC).ToString(), reason.Exception.Message);
        Assert.True(failed.Elapsed < TimeSpan.FromSeconds(10), $"answered after {failed.Elapsed}, not at the 20 s deadline");
        await AggregationAssert.NoLeaksAsync(aggregator);
    }
}
