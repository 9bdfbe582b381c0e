using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// Once a request is answered it no longer counts: its id is free, it takes no in-flight slot, and a late CancelAggregate
/// for it is ignored quietly. A client that waits for each reply before sending the next request never races the aggregator.
/// </summary>
public sealed class AnsweredRequestSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private const int Fetchers = 16;

    /// <summary>
    /// Sequential requests per spec. The window is hit on most requests once the system is warm, but a cold one may go a few
    /// hundred requests without hitting it; a thousand instant requests take a second or two.
    /// </summary>
    private const int Requests = 1000;

    /// <summary>
    /// Instant fetches, many of them: a request ends only once all its fetcher actors have stopped, so many fetchers widen the
    /// moment between a reply and the end of its request, the moment in which a fast client acts on the reply.
    /// </summary>
    private static AggregationDefinition<int, string> Instant()
    {
        var builder = Aggregation.For<int>().Fetch("f0", (int id, CancellationToken _) => Task.FromResult($"{id}"));
        for (var i = 1; i < Fetchers; i++) builder = builder.Fetch($"f{i}", (int _, CancellationToken _) => Task.FromResult(""));
        return builder.Build();
    }

    private static string Expected(int id) => id + string.Concat(Enumerable.Repeat(" | ", Fetchers - 1));

    [Fact]
    public async Task A_CancelAggregate_sent_right_after_the_reply_must_produce_no_dead_letter()
    {
        var deadLetters = WatchDeadLetters();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Instant()), "answered-then-cancelled");

        // Many times, to make the window between the reply and the request's cleanup certain to be hit.
        for (var i = 0; i < Requests / 2; i++)
        {
            aggregator.Tell(new Aggregate<int>(i) { RequestId = $"req-{i}" });
            var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
            aggregator.Tell(new CancelAggregate(reply.RequestId));
        }

        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
        await ExpectNoMsgAsync(Ms(300));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_request_id_must_be_reusable_as_soon_as_its_reply_arrived()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Instant()));

        for (var i = 0; i < Requests; i++)
        {
            aggregator.Tell(new Aggregate<int>(i) { RequestId = "same" });
            var reply = await ExpectMsgAsync<IAggregateReply>(Generous);
            var succeeded = Assert.IsType<AggregateSucceeded<string>>(reply);
            Assert.Equal("same", succeeded.RequestId);
            Assert.Equal(Expected(i), succeeded.Result);
        }

        Assert.Equal(0, (await StatsAsync(aggregator)).Rejected);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_strictly_sequential_Tell_client_at_max_in_flight_1_must_never_be_told_busy()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Instant(), AggregationSettings.Create(Sys).WithMaxInFlight(1)));

        for (var i = 0; i < Requests; i++)
        {
            aggregator.Tell(new Aggregate<int>(i));
            var reply = await ExpectMsgAsync<IAggregateReply>(Generous);
            Assert.IsType<AggregateSucceeded<string>>(reply);
        }

        var stats = await StatsAsync(aggregator);
        Assert.Equal(Requests, stats.Accepted);
        Assert.Equal(0, stats.Rejected);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_sequential_AggregateAsync_loop_at_max_in_flight_1_must_never_be_told_busy()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Instant(), AggregationSettings.Create(Sys).WithMaxInFlight(1)));

        for (var i = 0; i < Requests; i++)
            Assert.Equal(Expected(i), await aggregator.AggregateAsync<int, string>(i));

        var stats = await StatsAsync(aggregator);
        Assert.Equal(Requests, stats.Accepted);
        Assert.Equal(0, stats.Rejected);
        await AwaitQuietAsync(aggregator);
    }
}
