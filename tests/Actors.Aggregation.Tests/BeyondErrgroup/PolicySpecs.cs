using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Completion policies: FailFast (default), CollectAll, FirstSuccess, Quorum(k).</summary>
public sealed class PolicySpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task CollectAll_must_keep_every_outcome_and_combine_the_successes()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Name: Alice"))
            .Fetch("orders", Fetches.FailAfter<int, string>(Ms(20), new InvalidOperationException("orders down")))
            .Fetch("ads", Fetches.FailAfter<int, string>(Ms(30), new TimeoutException("ads slow")))
            .Fetch("late-but-fine", Fetches.After<int, string>(Ms(200), "Late: ok")) // finishes after the failures: not cancelled by them
            .Fetch("stuck", Fetches.Hang<int, string>())
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(Ms(800))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal("Name: Alice | Late: ok", reply.Result);
        Assert.Equal(new[] { PartStatus.Succeeded, PartStatus.Failed, PartStatus.Failed, PartStatus.Succeeded, PartStatus.TimedOut },
            reply.Parts.Select(p => p.Status));
        Assert.Equal("orders down", reply.Parts[1].Error!.Message);
        AssertErrorType<TimeoutException>(reply.Parts[2].Error);
        Assert.False(reply.AllSucceeded);
        Assert.True(reply.Elapsed >= Ms(790), $"waited for the deadline: {reply.Elapsed}");
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task CollectAll_must_reply_as_soon_as_every_fetcher_has_finished()
    {
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.After<int, int>(Ms(10), 1))
            .Fetch("b", Fetches.FailAfter<int, int>(Ms(20), new InvalidOperationException("b")))
            .Combine(parts => parts.TryGet<int>("a", out var a) ? a * 10 + (parts.Has("b") ? 1 : 0) : -1)
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateCompleted<int>>(Generous);
        Assert.Equal(10, reply.Result);
        Assert.True(reply.Elapsed < TimeSpan.FromSeconds(10), $"{reply.Elapsed}");
    }

    [Fact]
    public async Task FirstSuccess_must_return_the_first_success_cancel_the_losers_and_never_let_a_failure_win()
    {
        var slow = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("fast-failure", Fetches.FailAfter<int, string>(Ms(10), new InvalidOperationException("replica 1 down")))
            .Fetch("replica-2", Fetches.After<int, string>(Ms(150), "from replica 2"))
            .Fetch("replica-3", Fetches.Hang<int, string>(slow))
            .WithPolicy(CompletionPolicy.FirstSuccess)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("from replica 2", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await slow.WhenCancelled();
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task FirstSuccess_must_report_every_error_when_all_fail()
    {
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.FailAfter<int, string>(Ms(10), new InvalidOperationException("a down")))
            .Fetch("b", Fetches.ThrowsAtOnce<int, string>(new TimeoutException("b slow")))
            .Fetch("c", Fetches.FailAfter<int, string>(Ms(60), new InvalidOperationException("c down")))
            .WithPolicy(CompletionPolicy.FirstSuccess)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reason = Assert.IsType<QuorumNotReached>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(1, reason.Required);
        Assert.Equal(new[] { "a", "b", "c" }, reason.Failures.Select(f => f.Fetcher).Order());
        Assert.Contains(reason.Failures, f => IsError<TimeoutException>(f.Exception));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Quorum_must_complete_with_the_first_k_successes_and_cancel_the_rest()
    {
        var straggler = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("n1", Fetches.After<int, string>(Ms(10), "v1"))
            .Fetch("n2", Fetches.FailAfter<int, string>(Ms(20), new InvalidOperationException("n2 down")))
            .Fetch("n3", Fetches.After<int, string>(Ms(80), "v3"))
            .Fetch("n4", Fetches.Hang<int, string>(straggler))
            .WithPolicy(CompletionPolicy.Quorum(2))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("v1 | v3", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await straggler.WhenCancelled();
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Quorum_must_fail_as_soon_as_it_becomes_unreachable()
    {
        var straggler = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("n1", Fetches.FailAfter<int, string>(Ms(10), new InvalidOperationException("n1 down")))
            .Fetch("n2", Fetches.FailAfter<int, string>(Ms(40), new InvalidOperationException("n2 down")))
            .Fetch("n3", Fetches.Hang<int, string>(straggler))
            .WithPolicy(CompletionPolicy.Quorum(2))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reason = Assert.IsType<QuorumNotReached>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(2, reason.Required);
        Assert.Equal(new[] { "n1", "n2" }, reason.Failures.Select(f => f.Fetcher));
        await straggler.WhenCancelled();
    }

    [Fact]
    public async Task FailFast_must_stay_the_default()
    {
        var definition = Aggregation.For<int>().Fetch("a", Fetches.After<int, string>(Ms(1), "a")).Build();
        Assert.Same(CompletionPolicy.FailFast, definition.Policy);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        aggregator.Tell(new Aggregate<int>(1));
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
    }

    [Fact]
    public void A_quorum_larger_than_the_fetchers_must_be_rejected_at_Build()
    {
        Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", Fetches.Hang<int, string>()).WithPolicy(CompletionPolicy.Quorum(2)).Build());
        Assert.Throws<ArgumentOutOfRangeException>(() => CompletionPolicy.Quorum(0));
    }

    [Fact]
    public async Task AggregateAsync_must_return_the_result_of_a_CollectAll_request()
    {
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.After<int, string>(Ms(1), "a"))
            .Fetch("b", Fetches.FailAfter<int, string>(Ms(1), new InvalidOperationException("b")))
            .WithPolicy(CompletionPolicy.CollectAll)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        Assert.Equal("a", await aggregator.AggregateAsync<int, string>(1));
    }
}
