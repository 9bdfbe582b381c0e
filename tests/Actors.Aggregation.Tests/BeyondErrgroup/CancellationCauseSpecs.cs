using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>context.Cause: a fetch taking a FetchContext learns why its token fired.</summary>
public sealed class CancellationCauseSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>A context-aware fetch that hangs and records the cause it sees when its token fires.</summary>
    private sealed class CauseProbe
    {
        private readonly TaskCompletionSource<CancellationCause?> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<FetchContext<int>> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<FetchContext<int>, Task<string>> Fetch => async context =>
        {
            context.CancellationToken.Register(() => _seen.TrySetResult(context.Cause));
            _started.TrySetResult(context);
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return "never";
        };

        public Task<FetchContext<int>> Started => _started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        public Task<CancellationCause?> Cause => _seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static AggregationDefinition<int, string> WithProbe(CauseProbe probe, TimeSpan timeout,
        Func<int, CancellationToken, Task<string>>? sibling = null, CompletionPolicy? policy = null) =>
        Aggregation.For<int>()
            .Fetch("probe", probe.Fetch)
            .Fetch("sibling", sibling ?? Fetches.Hang<int, string>())
            .WithPolicy(policy ?? CompletionPolicy.FailFast)
            .WithTimeout(timeout)
            .Build();

    [Fact]
    public async Task A_sibling_failure_must_be_the_cause_and_name_the_sibling()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30),
            Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("boom")))));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "cause-1" });

        await ExpectMsgAsync<AggregateFailed>(Generous);
        var cause = await probe.Cause;
        Assert.Equal(CancellationCauseKind.SiblingFailed, cause!.Kind);
        Assert.Equal("sibling", cause.Fetcher);
        var context = await probe.Started;
        Assert.Equal("cause-1", context.RequestId);
        Assert.Equal("probe", context.Fetcher);
        Assert.Equal(1, context.Attempt);
    }

    [Fact]
    public async Task The_deadline_must_be_the_cause_when_it_passes()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, Ms(300))));

        aggregator.Tell(new Aggregate<int>(1));

        var context = await probe.Started;
        Assert.True(context.Remaining <= Ms(300));
        Assert.Null(context.Cause);
        await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(CancellationCauseKind.DeadlineExceeded, (await probe.Cause)!.Kind);
    }

    [Fact]
    public async Task CancelAggregate_must_be_the_caller_cancelled_cause()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30))));
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "c" });
        await probe.Started;

        aggregator.Tell(new CancelAggregate("c"));

        await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(CancellationCauseKind.CallerCancelled, (await probe.Cause)!.Kind);
    }

    [Fact]
    public async Task The_requesters_death_must_be_the_cause()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30))));
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1));
        await probe.Started;

        Sys.Stop(requester.Ref);

        Assert.Equal(CancellationCauseKind.RequesterTerminated, (await probe.Cause)!.Kind);
    }

    [Fact]
    public async Task A_stopped_aggregator_must_be_the_cause()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30))));
        aggregator.Tell(new Aggregate<int>(1));
        await probe.Started;

        Sys.Stop(aggregator);

        Assert.Equal(CancellationCauseKind.AggregatorStopped, (await probe.Cause)!.Kind);
        await ExpectMsgAsync<AggregateFailed>(Generous);
    }

    [Fact]
    public async Task Shutdown_must_be_the_cause_when_the_system_stops()
    {
        var probe = new CauseProbe();
        var other = ActorSystem.Create("cause-shutdown", SpecConfig);
        var aggregator = other.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30))));
        aggregator.Tell(new Aggregate<int>(1), TestActor);
        await probe.Started;

        await other.Terminate().WaitAsync(Generous);

        Assert.Equal(CancellationCauseKind.Shutdown, (await probe.Cause)!.Kind);
    }

    [Fact]
    public async Task A_loser_of_FirstSuccess_must_see_request_completed()
    {
        var probe = new CauseProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(WithProbe(probe, TimeSpan.FromSeconds(30),
            Fetches.After<int, string>(Ms(50), "winner"), CompletionPolicy.FirstSuccess)));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("winner", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        Assert.Equal(CancellationCauseKind.RequestCompleted, (await probe.Cause)!.Kind);
    }
}
