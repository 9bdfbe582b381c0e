using System.Collections.Concurrent;
using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>
/// A front over several aggregators: one ref for callers, the requests spread, a cancel reaching the aggregator that runs
/// its request, busy aggregators passed over, and exactly one answer however the request ends (the aggregator's reply,
/// the front's own deadline, the aggregator's stop, the front's stop).
/// </summary>
public sealed class FrontSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly AggregationDefinition<int, string> Kata = Aggregation.For<int>()
        .Fetch("profile", Fetches.After<int, string>(Ms(20), "Name: Alice"))
        .Fetch("orders", Fetches.After<int, string>(Ms(10), "Order: 5"))
        .WithTimeout(TimeSpan.FromSeconds(10))
        .Build();

    private static AggregationDefinition<int, string> Hanging(ConcurrentDictionary<int, TokenProbe> probes) => Aggregation.For<int>()
        .Fetch("profile", Fetches.Hang<int, string>(key => probes.GetOrAdd(key, _ => new TokenProbe())))
        .WithTimeout(TimeSpan.FromSeconds(30))
        .Build();

    private async Task<IActorRef> PoolMember(IActorRef front, int index) =>
        await Sys.ActorSelection(front.Path / $"aggregator-{index}").ResolveOne(Generous);

    [Fact]
    public async Task A_pool_must_answer_like_one_aggregator_and_spread_the_requests_over_its_aggregators()
    {
        var front = Sys.ActorOf(AggregatorFront.Pool(Kata, 2), "pool");

        for (var i = 0; i < 4; i++) front.Tell(new Aggregate<int>(i) { RequestId = $"r-{i}" });
        var replies = new List<AggregateSucceeded<string>>();
        for (var i = 0; i < 4; i++) replies.Add(await ExpectMsgAsync<AggregateSucceeded<string>>(Generous));

        Assert.Equal(["r-0", "r-1", "r-2", "r-3"], replies.Select(r => r.RequestId).Order());
        Assert.All(replies, r => Assert.Equal("Name: Alice | Order: 5", r.Result));
        Assert.Equal(2, (await StatsAsync(await PoolMember(front, 0))).Accepted);
        Assert.Equal(2, (await StatsAsync(await PoolMember(front, 1))).Accepted);
        Assert.Equal("Name: Alice | Order: 5", await front.AggregateAsync<int, string>(9));
        Assert.Equal(5, (await StatsAsync(front)).Accepted); // summed over the pool
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task The_library_pages_pool_example_must_answer_the_kata()
    {
        var system = Sys;
        var dashboard = Kata;
        // snippet:begin front-pool
        var dashboards = system.ActorOf(AggregatorFront.Pool(dashboard, instances: 4), "dashboards");
        string text = await dashboards.AggregateAsync<int, string>(1); // Name: Alice | Order: 5
        // snippet:end
        Assert.Equal("Name: Alice | Order: 5", text);
        Assert.Equal(4, (await CountActorsAsync("/user/dashboards/aggregator-*")));
    }

    [Fact]
    public async Task A_request_without_an_id_must_get_one_and_keep_it_in_its_reply()
    {
        var front = Sys.ActorOf(AggregatorFront.Pool(Kata, 2), "ids");

        front.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.False(string.IsNullOrWhiteSpace(reply.RequestId));
        Assert.Equal(0, (await FrontStatsAsync(front)).InFlight);
    }

    [Fact]
    public async Task A_cancel_sent_to_the_front_must_reach_the_aggregator_that_runs_the_request()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 3), "cancel");
        for (var i = 0; i < 3; i++) front.Tell(new Aggregate<int>(i) { RequestId = $"r-{i}" });
        await AwaitAssertAsync(() => Assert.Equal(3, probes.Count), Generous);
        await Task.WhenAll(probes.Values.Select(p => p.WhenStarted()));

        front.Tell(new CancelAggregate("r-1"));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(("r-1", AggregationCancelled.ByRequester), (reply.RequestId, Assert.IsType<AggregationCancelled>(reply.Reason).Reason));
        await probes[1].WhenCancelled();
        Assert.False(probes[0].WasCancelled || probes[2].WasCancelled);
        front.Tell(new CancelAggregate("r-0"), CreateTestProbe().Ref); // not its requester: ignored
        front.Tell(new CancelAggregate("r-0"));
        front.Tell(new CancelAggregate("r-2"));
        Assert.Equal(["r-0", "r-2"], new[] { (await ExpectMsgAsync<AggregateFailed>(Generous)).RequestId, (await ExpectMsgAsync<AggregateFailed>(Generous)).RequestId }.Order());
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task Cancelling_AggregateAsync_on_a_front_must_cancel_the_request()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 2), "async");
        using var cts = new CancellationTokenSource();

        var call = front.AggregateAsync<int, string>(1, cancellationToken: cts.Token);
        await AwaitAssertAsync(() => Assert.True(probes.ContainsKey(1)), Generous);
        await probes[1].WhenStarted();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await probes[1].WhenCancelled();
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task A_busy_aggregator_must_be_passed_over_for_another_and_all_busy_must_be_rejected()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var oneEach = new AggregationSettings(TimeSpan.FromSeconds(30), maxInFlight: 1, TimeSpan.FromMilliseconds(100));
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 2, oneEach), "busy");

        front.Tell(new Aggregate<int>(0) { RequestId = "r-0" }); // aggregator-0
        front.Tell(new Aggregate<int>(1) { RequestId = "r-1" }); // aggregator-1
        await AwaitAssertAsync(() => Assert.Equal(2, probes.Count), Generous);
        front.Tell(new CancelAggregate("r-1"));
        Assert.Equal("r-1", (await ExpectMsgAsync<AggregateFailed>(Generous)).RequestId);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatsAsync(await PoolMember(front, 1))).InFlight), Generous);

        front.Tell(new Aggregate<int>(2) { RequestId = "r-2" }); // aggregator-0 first: busy, so aggregator-1
        await AwaitAssertAsync(() => Assert.True(probes.ContainsKey(2)), Generous);
        front.Tell(new Aggregate<int>(3) { RequestId = "r-3" }); // both busy

        var rejected = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(("r-3", RequestRejected.Busy), (rejected.RequestId, Assert.IsType<RequestRejected>(rejected.Reason).Reason));
        var stats = await FrontStatsAsync(front);
        Assert.True(stats.BusyRetries >= 2, $"busy retries: {stats.BusyRetries}");
        Assert.Equal(2, stats.InFlight);
        front.Tell(new CancelAggregate("r-0"));
        front.Tell(new CancelAggregate("r-2"));
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task Without_an_answer_the_front_must_answer_DeadlineExceeded_at_the_requests_own_deadline_and_drop_a_late_reply()
    {
        var aggregator = CreateTestProbe(); // stands for an aggregator whose replies are lost
        var front = Sys.ActorOf(AggregatorFront.Over([aggregator.Ref], Kata), "lost");
        var started = DateTime.UtcNow;

        front.Tell(new Aggregate<int>(1) { RequestId = "r-lost", Timeout = Ms(800) });

        var forwarded = await aggregator.ExpectMsgAsync<Aggregate<int>>(Generous);
        Assert.Equal("r-lost", forwarded.RequestId);
        Assert.True(forwarded.Timeout < Ms(800) && forwarded.Timeout >= Ms(700), $"the aggregator's budget: {forwarded.Timeout}");
        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var deadline = Assert.IsType<DeadlineExceeded>(reply.Reason);
        Assert.Equal(Ms(800), deadline.Timeout);
        Assert.Equal(["profile", "orders"], deadline.Pending); // the front cannot know which parts arrived over there
        Assert.True(DateTime.UtcNow - started >= Ms(790), "not before the deadline");
        Assert.Equal("r-lost", (await aggregator.ExpectMsgAsync<CancelAggregate>(Generous)).RequestId); // cancelled there, best effort

        aggregator.Reply(new AggregateSucceeded<string>("r-lost", "too late", Ms(900)));
        await ExpectNoMsgAsync(Ms(300));
        Assert.Equal(1, (await FrontStatsAsync(front)).LateReplies);
    }

    [Fact]
    public async Task A_deadline_the_aggregator_decides_must_name_the_requesters_own_budget_and_the_pending_fetchers()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 1), "own-budget");
        // The process's first timer can take a second to start (the scheduler's thread): not what this spec measures.
        front.Tell(new Aggregate<int>(0) { Timeout = Ms(200) });
        await ExpectMsgAsync<AggregateFailed>(Generous);

        front.Tell(new Aggregate<int>(1) { RequestId = "r-budget", Timeout = Ms(600) });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var deadline = Assert.IsType<DeadlineExceeded>(reply.Reason);
        // The aggregator ran on the budget less the front's margin and decided first: its reply names what was pending
        // there, and the requester reads back the budget it asked for, not the aggregator's.
        Assert.Equal(Ms(600), deadline.Timeout);
        Assert.Equal(["profile"], deadline.Pending);
        Assert.True(reply.Elapsed < Ms(600), $"decided by the aggregator, before the front's own deadline: {reply.Elapsed}");
        await probes[1].WhenCancelled(Generous);
        await ExpectNoMsgAsync(Ms(300));

        // A budget spent before the front could send it on is a deadline, not a timeout the aggregator would reject.
        front.Tell(new Aggregate<int>(2) { RequestId = "r-spent", Timeout = TimeSpan.FromTicks(1) });
        var spent = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(("r-spent", TimeSpan.FromTicks(1)), (spent.RequestId, Assert.IsType<DeadlineExceeded>(spent.Reason).Timeout));
        await ExpectNoMsgAsync(Ms(300));
        await AggregationAssert.NoLeaksAsync(front);
    }

    [Fact]
    public async Task An_aggregator_that_stops_must_have_its_requests_answered_once_and_get_no_more()
    {
        var stopping = CreateTestProbe();
        var healthy = Sys.ActorOf(AggregatorActor.Props(Kata), "healthy");
        var front = Sys.ActorOf(AggregatorFront.Over([stopping.Ref, healthy], Kata), "stopping");

        front.Tell(new Aggregate<int>(1) { RequestId = "on-stopping" });
        await stopping.ExpectMsgAsync<Aggregate<int>>(Generous);
        Sys.Stop(stopping.Ref);

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("on-stopping", reply.RequestId);
        Assert.Contains("stopped", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await FrontStatsAsync(front)).Aggregators), Generous);
        for (var i = 0; i < 3; i++) Assert.Equal("Name: Alice | Order: 5", await front.AggregateAsync<int, string>(i));
    }

    [Fact]
    public async Task The_death_of_a_requester_must_cancel_its_requests_behind_the_front()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 2), "orphans");
        var requester = CreateTestProbe();
        requester.Send(front, new Aggregate<int>(1));
        requester.Send(front, new Aggregate<int>(2));
        await AwaitAssertAsync(() => Assert.Equal(2, probes.Count), Generous);

        Sys.Stop(requester.Ref);

        await Task.WhenAll(probes.Values.Select(p => p.WhenCancelled()));
        await AggregationAssert.NoLeaksAsync(front);
        Assert.Equal(0, (await FrontStatsAsync(front)).InFlight);
    }

    [Fact]
    public async Task Bad_input_must_be_rejected_by_the_front_in_the_aggregators_words_and_the_front_keep_serving()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 2), "bad-input");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Hanging(probes)), "bad-input-alone");

        async Task<string> ReasonFrom(IActorRef target, object message)
        {
            target.Tell(message);
            return Assert.IsType<RequestRejected>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Reason;
        }

        foreach (var target in new[] { front, aggregator })
            target.Tell(new Aggregate<int>(1) { RequestId = "taken" });
        await AwaitAssertAsync(() => Assert.True(probes.ContainsKey(1)), Generous);
        object[] bad =
        [
            new Aggregate<int>(2) { Timeout = TimeSpan.Zero },
            new Aggregate<int>(2) { Timeout = TimeSpan.FromDays(60) },
            new Aggregate<int>(2) { RequestId = " " },
            new Aggregate<int>(2) { RequestId = "taken" },
            new Aggregate<string>(null!),
            new Aggregate<string>("wrong key type"),
        ];
        foreach (var message in bad) Assert.Equal(await ReasonFrom(aggregator, message), await ReasonFrom(front, message));

        front.Tell(new CancelAggregate("taken"));
        Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(0, (await FrontStatsAsync(front)).InFlight);
    }

    [Fact]
    public async Task Stopping_the_front_must_answer_every_request_in_flight_once_and_fire_every_token()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var front = Sys.ActorOf(AggregatorFront.Pool(Hanging(probes), 2), "stopped");
        for (var i = 0; i < 3; i++) front.Tell(new Aggregate<int>(i) { RequestId = $"r-{i}" });
        await AwaitAssertAsync(() => Assert.Equal(3, probes.Count), Generous);

        Sys.Stop(front);

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
            Assert.IsType<AggregationCancelled>(reply.Reason);
            ids.Add(reply.RequestId);
        }
        Assert.Equal(["r-0", "r-1", "r-2"], ids.Order());
        await Task.WhenAll(probes.Values.Select(p => p.WhenCancelled()));
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task A_drained_front_must_reject_new_requests_as_leaving_and_finish_those_it_runs()
    {
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var front = Sys.ActorOf(AggregatorFront.Pool(Aggregation.For<int>()
            .Fetch("profile", Fetches.IgnoringToken<int, string>(release.Task, "Name: Alice"))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), 2), "draining");
        front.Tell(new Aggregate<int>(1) { RequestId = "running" });
        await AwaitAssertAsync(async () => Assert.Equal(1, (await FrontStatsAsync(front)).InFlight), Generous);

        var drain = AggregatorFront.DrainAsync(front, TimeSpan.FromSeconds(20));
        await AwaitAssertAsync(async () =>
        {
            front.Tell(new Aggregate<int>(2) { RequestId = "late" });
            Assert.Equal("the node is leaving", Assert.IsType<RequestRejected>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Reason);
        }, Generous);
        Assert.False(drain.IsCompleted);
        release.SetResult(true);

        Assert.Equal(("running", "Name: Alice"), ((await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)) is var r ? (r.RequestId, r.Result) : default));
        Assert.True(await drain.WaitAsync(Generous));
    }

    [Fact]
    public void A_front_must_refuse_a_pool_of_none_and_no_aggregators()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AggregatorFront.Pool(Kata, 0));
        Assert.Throws<ArgumentException>(() => AggregatorFront.Over([]));
        Assert.Throws<ArgumentException>(() => AggregatorFront.Over([null!]));
    }

    [Theory]
    [InlineData("deadline-margin = -1ms", "actors.aggregation.front.deadline-margin")]
    [InlineData("deadline-margin = 2m", "actors.aggregation.front.deadline-margin")]
    [InlineData("deadline-margin = soon", "actors.aggregation.front.deadline-margin")]
    [InlineData("fail-on-unreachable = perhaps", "actors.aggregation.front.fail-on-unreachable")]
    [InlineData("identify-interval = 0s", "actors.aggregation.front.identify-interval")]
    public void Front_settings_out_of_range_must_be_refused_naming_the_setting(string hocon, string setting)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => AggregatorFrontSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString(hocon)));
        Assert.Contains(setting, error.Message);
    }

    [Fact]
    public void Front_settings_must_default_from_the_reference_configuration_and_take_the_systems_own()
    {
        var defaults = AggregatorFrontSettings.Create(Akka.Configuration.Config.Empty);
        Assert.Equal((Ms(50), false, TimeSpan.FromSeconds(1)), (defaults.DeadlineMargin, defaults.FailOnUnreachable, defaults.IdentifyInterval));
        Assert.Equal(Ms(50), AggregatorFrontSettings.Create(Sys).DeadlineMargin);
        Assert.True(defaults.WithFailOnUnreachable(true).FailOnUnreachable);
        Assert.Equal(Ms(10), defaults.WithDeadlineMargin(Ms(10)).DeadlineMargin);
    }

    private async Task<FrontStats> FrontStatsAsync(IActorRef front) => await front.Ask<FrontStats>(GetFrontStats.Instance, Generous);
}
