using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Nested groups: a fetch that runs an aggregation on another aggregator.</summary>
public sealed class NestedSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task A_nested_aggregation_must_contribute_its_result_as_a_part()
    {
        var inner = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("street", Fetches.After<int, string>(Ms(10), "Main St"))
            .Fetch("city", Fetches.After<int, string>(Ms(20), "Springfield"))
            .Build()), "address");
        var outer = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("name", Fetches.After<int, string>(Ms(5), "Name: Alice"))
            .Nested<int, string>("address", inner, id => id)
            .Build()));

        outer.Tell(new Aggregate<int>(1));

        Assert.Equal("Name: Alice | Main St | Springfield", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }

    [Fact]
    public async Task Cancelling_the_outer_request_must_cancel_fetchers_two_levels_down()
    {
        var innermostFetch = new TokenProbe();
        var middleFetch = new TokenProbe();
        var innermost = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("deep", Fetches.Hang<int, string>(innermostFetch))
            .Build()), "innermost");
        var middle = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("middle-own", Fetches.Hang<int, string>(middleFetch))
            .Nested<int, string>("innermost", innermost, id => id * 10)
            .Build()), "middle");
        var outer = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Nested<int, string>("middle", middle, id => id + 1)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()), "outer");

        outer.Tell(new Aggregate<int>(1) { RequestId = "outer-1" });
        await Task.WhenAll(innermostFetch.WhenStarted(), middleFetch.WhenStarted());
        outer.Tell(new CancelAggregate("outer-1"));

        Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        await middleFetch.WhenCancelled();
        await innermostFetch.WhenCancelled();
        await AwaitQuietAsync(outer);
        await AwaitQuietAsync(middle);
        await AwaitQuietAsync(innermost);
    }

    [Fact]
    public async Task An_inner_failure_must_fail_the_outer_fetcher_with_the_inner_reason()
    {
        var inner = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("broken", Fetches.FailAfter<int, string>(Ms(10), new InvalidOperationException("inner down")))
            .Build()));
        var outer = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>().Nested<int, string>("inner", inner, id => id).Build()));

        outer.Tell(new Aggregate<int>(1));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        AssertErrorType<AggregationFailedException>(failed.Exception);
        if (failed.Exception is AggregationFailedException innerFailure)
            Assert.Equal("broken", Assert.IsType<FetcherFailed>(innerFailure.Reason).Fetcher);
        else
            Assert.Contains("fetcher 'broken' failed", failed.Exception.Message); // through the wire format: the inner reason as text
    }
}
