using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>i. Bad input gets a clear error, and the aggregator keeps serving.</summary>
public sealed class BadInputSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private IActorRef NewAggregator(AggregationSettings? settings = null, Func<string, CancellationToken, Task<string>>? fetch = null) =>
        Sys.ActorOf(AggregatorActor.Props(
            Aggregation.For<string>().Fetch("echo", fetch ?? ((key, _) => Task.FromResult(key))).Build(), settings));

    private async Task ExpectServingAsync(IActorRef aggregator)
    {
        aggregator.Tell(new Aggregate<string>("still-here"));
        Assert.Equal("still-here", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }

    private async Task<string> ExpectRejectedAsync()
    {
        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        return Assert.IsType<RequestRejected>(reply.Reason).Reason;
    }

    [Fact]
    public async Task A_null_key_must_be_rejected()
    {
        var aggregator = NewAggregator();
        aggregator.Tell(new Aggregate<string>(null!) { RequestId = "null-key" });
        Assert.Contains("key must not be null", await ExpectRejectedAsync());
        await ExpectServingAsync(aggregator);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task A_non_positive_timeout_must_be_rejected(int milliseconds)
    {
        var aggregator = NewAggregator();
        aggregator.Tell(new Aggregate<string>("k") { Timeout = Ms(milliseconds) });
        Assert.Contains("timeout must be positive", await ExpectRejectedAsync());
        await ExpectServingAsync(aggregator);
    }

    [Fact]
    public async Task A_duplicate_request_id_in_flight_must_be_rejected()
    {
        var aggregator = NewAggregator(fetch: async (key, ct) => { await Task.Delay(300, ct); return key; });
        aggregator.Tell(new Aggregate<string>("first") { RequestId = "same" });
        aggregator.Tell(new Aggregate<string>("second") { RequestId = "same" });

        Assert.Contains("already in flight", await ExpectRejectedAsync());
        Assert.Equal("first", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await ExpectServingAsync(aggregator);
    }

    [Fact]
    public async Task An_empty_request_id_must_be_rejected()
    {
        var aggregator = NewAggregator();
        aggregator.Tell(new Aggregate<string>("k") { RequestId = " " });
        Assert.Contains("request id must not be empty", await ExpectRejectedAsync());
    }

    [Fact]
    public async Task A_key_of_the_wrong_type_must_be_rejected()
    {
        var aggregator = NewAggregator();
        aggregator.Tell(new Aggregate<int>(5) { RequestId = "wrong-type" });
        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("wrong-type", reply.RequestId);
        Assert.Contains("Int32", Assert.IsType<RequestRejected>(reply.Reason).Reason);
        await ExpectServingAsync(aggregator);
    }

    [Fact]
    public async Task An_unknown_message_must_be_logged_as_unhandled_and_the_aggregator_keep_serving()
    {
        var aggregator = NewAggregator();
        await EventFilter.Warning(contains: $"unknown message of type {typeof(Nonsense).FullName}").ExpectOneAsync(Generous,
            () => { aggregator.Tell(new Nonsense(42)); return Task.CompletedTask; });
        await ExpectServingAsync(aggregator);
    }

    [Fact]
    public async Task A_request_over_max_in_flight_must_be_rejected_as_busy_at_once()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = NewAggregator(AggregationSettings.Create(Sys).WithMaxInFlight(2), (_, _) => release.Task);

        aggregator.Tell(new Aggregate<string>("1"));
        aggregator.Tell(new Aggregate<string>("2"));
        aggregator.Tell(new Aggregate<string>("3") { RequestId = "third" });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("third", reply.RequestId);
        Assert.Equal(RequestRejected.Busy, Assert.IsType<RequestRejected>(reply.Reason).Reason);
        var stats = await StatsAsync(aggregator);
        Assert.Equal(2, stats.InFlight);
        Assert.Equal(1, stats.Rejected);
        release.SetResult("done");
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_rejection_must_reach_AggregateAsync_as_an_AggregationFailedException()
    {
        var aggregator = NewAggregator();
        var error = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<string, string>("k", Ms(-1)));
        Assert.IsType<RequestRejected>(error.Reason);
    }

    /// <summary>A message no aggregator knows (a record, so that it also crosses the wire format unchanged).</summary>
    public sealed record Nonsense(int Value);
}
