using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;
using Actors.Aggregation.Testing;

namespace Actors.Aggregation.Reliability.Tests;

/// <summary>The leak check users run in their own specs: <see cref="AggregationAssert.NoLeaksAsync"/>, backed by <see cref="GetLeakReport"/>.</summary>
public sealed class LeakCheckSpecs(ITestOutputHelper output) : ReliabilitySpec(output)
{
    [Fact]
    public async Task NoLeaksAsync_must_pass_once_every_request_has_ended_and_its_cancelled_fetches_wound_down()
    {
        var tokens = new TokenCounter();
        var definition = Aggregation.For<int>()
            .Fetch("a", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch("b", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch<string>("fails", async (int _, CancellationToken ct) =>
            {
                await Task.Delay(20, ct);
                throw new InvalidOperationException("boom");
            })
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "quiet");

        for (var i = 0; i < 50; i++) aggregator.Tell(new Aggregate<int>(i));
        for (var i = 0; i < 50; i++) await ExpectMsgAsync<AggregateFailed>(Generous);

        await AggregationAssert.NoLeaksAsync(aggregator);
        Assert.True((await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous)).IsQuiet);
        Assert.Equal(100, tokens.Fired);
        Assert.Equal(0, tokens.Running);
    }

    [Fact]
    public async Task GetLeakReport_must_name_the_requests_in_flight_and_their_live_fetchers()
    {
        var tokens = new TokenCounter();
        var definition = Aggregation.For<int>()
            .Fetch("user profile", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch("orders/v2", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch("$special..", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "report");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-1" });
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "r-2" });
        await EventuallyAsync(() => tokens.Started == 6);

        var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
        Assert.False(report.IsQuiet);
        Assert.Equal(6, report.LiveFetchers);
        Assert.Empty(report.LingeringFetches);
        Assert.Equal(["r-1", "r-2"], report.InFlight.Select(r => r.RequestId).Order());
        foreach (var request in report.InFlight) Assert.Equal(["user profile", "orders/v2", "$special.."], request.LiveFetchers);
        Assert.Contains("request 'r-1' (live fetchers: user profile, orders/v2, $special..)", report.Describe(), StringComparison.Ordinal);

        aggregator.Tell(new CancelAggregate("r-1"));
        aggregator.Tell(new CancelAggregate("r-2"));
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task NoLeaksAsync_must_fail_naming_the_request_and_the_fetcher_a_broken_coordinator_left_running()
    {
        var tokens = new TokenCounter();
        var definition = Aggregation.For<int>()
            .Fetch("a", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch("fails", (int _, CancellationToken _) => Task.FromException<string>(new InvalidOperationException("boom")))
            .Fetch("c", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Build();
        // TEST-ONLY fault injection: the coordinator "forgets" to stop its last live fetcher ("c") when the request ends.
        var faults = new FaultInjection { SkipStoppingAFetcher = id => id == "r-leak" };
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition, null, faults), "broken");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-leak" });
        Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);

        var leak = await Assert.ThrowsAsync<AggregationLeakException>(() => AggregationAssert.NoLeaksAsync(aggregator, TimeSpan.FromSeconds(1)));
        Output.WriteLine(leak.Message);
        Assert.Contains("request 'r-leak' (live fetchers: c)", leak.Message, StringComparison.Ordinal);
        Assert.Equal("r-leak", Assert.Single(leak.Report.InFlight).RequestId);
        Assert.Equal(1, leak.Report.LiveFetchers);
        // The harm is the actor outliving its request; its fetch was still cancelled, because every fetch's token is tied to
        // the request's own scope, which the coordinator ends when it decides, before any stop.
        await EventuallyAsync(() => tokens.Running == 0);

        // Other requests are not broken, and stopping the aggregator finally stops the leaked fetcher.
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "r-fine" });
        await ExpectMsgAsync<AggregateFailed>(Generous);
        Watch(aggregator);
        Sys.Stop(aggregator);
        await ExpectTerminatedAsync(aggregator, Generous);
        await EventuallyAsync(() => tokens.Running == 0 && tokens.Fired == tokens.Started);
    }

    [Fact]
    public async Task NoLeaksAsync_must_fail_naming_a_fetch_still_running_after_its_token_fired_then_pass_once_it_ends()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("stubborn", async (int _, CancellationToken _) => await release.Task) // ignores its token
            .Fetch<string>("fails", async (int _, CancellationToken ct) =>
            {
                await Task.Delay(20, ct);
                throw new InvalidOperationException("boom");
            })
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "stubborn");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-stubborn" });
        await ExpectMsgAsync<AggregateFailed>(Generous);

        var leak = await Assert.ThrowsAsync<AggregationLeakException>(() => AggregationAssert.NoLeaksAsync(aggregator, Ms(500)));
        Output.WriteLine(leak.Message);
        var lingering = Assert.Single(leak.Report.LingeringFetches);
        Assert.Equal(("r-stubborn", "stubborn", true), (lingering.RequestId, lingering.Fetcher, lingering.Abandoned));
        Assert.True(lingering.SinceTokenFired >= Ms(400), $"{lingering.SinceTokenFired}");
        Assert.Contains("fetcher 'stubborn' of request 'r-stubborn'", leak.Message, StringComparison.Ordinal);
        Assert.Contains("abandoned", leak.Message, StringComparison.Ordinal);
        Assert.Empty(leak.Report.InFlight);

        release.SetResult("late");
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task NoLeaksAsync_must_wait_for_a_slow_but_cooperative_wind_down_within_its_timeout()
    {
        var definition = Aggregation.For<int>()
            .Fetch("slow-to-stop", async (int _, CancellationToken ct) =>
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }
                catch (OperationCanceledException)
                {
                    await Task.Delay(1000, CancellationToken.None); // cleans up for a while after its token fired
                    throw;
                }
                return "never";
            })
            .WithTimeout(Ms(100))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "slow-to-stop");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-slow" });
        Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        // The reply goes out before the fetcher stops: wait until the report shows the fetch lingering.
        await AwaitAssertAsync(async () =>
            Assert.Single((await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous)).LingeringFetches), Generous, Ms(10));

        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }
}
