using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>a. One coordinator per request, one fetcher actor per fetcher, all started at once, supervised all-for-one.</summary>
public sealed class StructureSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task Each_request_must_get_its_own_coordinator_with_one_child_actor_per_fetcher()
    {
        var a = new TokenProbe();
        var b = new TokenProbe();
        var c = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.Hang<int, string>(a))
            .Fetch("b", Fetches.Hang<int, string>(b))
            .Fetch("c", Fetches.Hang<int, string>(c))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "structure");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r1" });
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "r2" });

        // All three fetches of a request are running at the same time: none of them ever finishes on its own.
        await Task.WhenAll(a.WhenStarted(), b.WhenStarted(), c.WhenStarted());
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(2, await CountActorsAsync("/user/structure/*"));
            Assert.Equal(6, await CountActorsAsync("/user/structure/*/*"));
        }, Generous);
        var stats = await StatsAsync(aggregator);
        Assert.Equal(2, stats.InFlight);
        Assert.Equal(6, stats.LiveFetchers);

        aggregator.Tell(new CancelAggregate("r1"));
        aggregator.Tell(new CancelAggregate("r2"));
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await AwaitQuietAsync(aggregator);
        Assert.Equal(0, await CountActorsAsync("/user/structure/*"));
    }

    public static TheoryData<string> FailureKinds => new() { "faulted-task", "throws-before-first-await", "null-task" };

    [Theory]
    [MemberData(nameof(FailureKinds))]
    public async Task One_failing_fetcher_must_stop_all_of_its_siblings(string kind)
    {
        var sibling1 = new TokenProbe();
        var sibling2 = new TokenProbe();
        var boom = new InvalidOperationException("boom");
        var failing = kind switch
        {
            "faulted-task" => Fetches.FailAfter<int, string>(Ms(100), boom),
            "throws-before-first-await" => Fetches.ThrowsAtOnce<int, string>(boom),
            _ => Fetches.ReturnsNull<int, string>(),
        };
        var definition = Aggregation.For<int>()
            .Fetch("sibling1", Fetches.Hang<int, string>(sibling1))
            .Fetch("failing", failing)
            .Fetch("sibling2", Fetches.Hang<int, string>(sibling2))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(7));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var failed = Assert.IsType<FetcherFailed>(reply.Reason);
        Assert.Equal("failing", failed.Fetcher);
        if (kind == "null-task") AssertErrorType<InvalidOperationException>(failed.Exception);
        else AssertSameError(boom, failed.Exception);
        await sibling1.WhenCancelled();
        await sibling2.WhenCancelled();
        await AwaitQuietAsync(aggregator);
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task The_aggregator_must_keep_serving_after_a_fetcher_throws()
    {
        var calls = 0;
        var definition = Aggregation.For<int>()
            .Fetch("flaky", (int _, CancellationToken _) =>
                Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("first call fails") : Task.FromResult("ok"))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        Watch(aggregator);

        aggregator.Tell(new Aggregate<int>(1));
        Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        aggregator.Tell(new Aggregate<int>(2));
        Assert.Equal("ok", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }
}
