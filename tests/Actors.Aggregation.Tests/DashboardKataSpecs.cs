using System.Diagnostics;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>The canonical scenario (seed 003): profile and orders fetched in parallel for one dashboard.</summary>
public sealed class DashboardKataSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static AggregationDefinition<int, string> Dashboard(TimeSpan profileDelay, TimeSpan ordersDelay, TimeSpan timeout,
        TokenProbe? profileProbe = null, TokenProbe? ordersProbe = null) =>
        Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(profileDelay, "Name: Alice", profileProbe))
            .Fetch("orders", Fetches.After<int, string>(ordersDelay, "Order: 5", ordersProbe))
            .WithTimeout(timeout)
            .Build();

    [Fact]
    public async Task Dashboard_must_combine_profile_and_orders_in_declared_order()
    {
        // Orders finishes first; the result still follows declaration order.
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard(Ms(300), Ms(50), TimeSpan.FromSeconds(5))));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "kata-1" });

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("kata-1", reply.RequestId);
        Assert.Equal("Name: Alice | Order: 5", reply.Result);
        Assert.True(reply.Elapsed >= Ms(250), $"elapsed {reply.Elapsed}");
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task Dashboard_must_fail_fast_at_the_deadline_when_profile_is_slower_than_the_timeout()
    {
        var profile = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard(TimeSpan.FromSeconds(2), Ms(500), TimeSpan.FromSeconds(1), profile)));
        var sent = Stopwatch.GetTimestamp();

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "kata-2" });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var replyMs = MsSince(sent);
        var deadline = Assert.IsType<DeadlineExceeded>(reply.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), deadline.Timeout);
        Assert.Equal(new[] { "profile" }, deadline.Pending);
        // About 1 s: never before the deadline, and nowhere near the 2 s the profile fetch would have taken.
        Assert.InRange(replyMs, 950, 1_800);
        Assert.InRange(reply.Elapsed.TotalMilliseconds, 995, 1_800);

        var profileCancelledAt = await profile.WhenCancelled();
        Assert.InRange(MsBetween(sent, profileCancelledAt), 950, 1_900);
        await AwaitQuietAsync(aggregator);
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task Dashboard_must_answer_an_ask_through_AggregateAsync()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard(Ms(20), Ms(10), TimeSpan.FromSeconds(5))));

        var result = await aggregator.AggregateAsync<int, string>(1);

        Assert.Equal("Name: Alice | Order: 5", result);
    }

    [Fact]
    public async Task Dashboard_must_throw_the_deadline_from_AggregateAsync()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard(TimeSpan.FromSeconds(2), Ms(500), TimeSpan.FromSeconds(1))));

        var failure = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        var deadline = Assert.IsType<DeadlineExceeded>(failure.Reason);
        Assert.Equal(new[] { "profile" }, deadline.Pending);
    }
}
