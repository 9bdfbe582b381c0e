using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// Only the requester can cancel its request: a CancelAggregate from anyone else, or from nobody, is ignored. Generated
/// request ids are random, so nobody can guess another client's id either.
/// </summary>
public sealed class CancelOwnershipSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>A fetch that honours its token and returns "mine" once <paramref name="release"/> completes.</summary>
    private static Func<int, CancellationToken, Task<string>> UntilReleased(Task release, TokenProbe probe) =>
        async (_, ct) =>
        {
            probe.Attach(ct);
            await release.WaitAsync(ct);
            return "mine";
        };

    private (IActorRef Aggregator, TokenProbe Probe, TaskCompletionSource Release) Victim()
    {
        var probe = new TokenProbe();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("slow", UntilReleased(release.Task, probe))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));
        return (aggregator, probe, release);
    }

    [Fact]
    public async Task A_CancelAggregate_from_another_actor_must_not_cancel_the_request()
    {
        var (aggregator, probe, release) = Victim();
        var requester = CreateTestProbe();
        var intruder = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1) { RequestId = "victim" });
        await probe.WhenStarted();

        intruder.Send(aggregator, new CancelAggregate("victim"));
        // The aggregator answers in mailbox order: once the intruder has its stats, the cancel has been dealt with,
        // and anything it passed on to the request is queued ahead of the fetch's part.
        intruder.Send(aggregator, GetAggregatorStats.Instance);
        await intruder.ExpectMsgAsync<AggregatorStats>(Generous);
        release.SetResult();

        var reply = await requester.ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("victim", reply.RequestId);
        Assert.Equal("mine", reply.Result);
        await intruder.ExpectNoMsgAsync(Ms(300));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_CancelAggregate_without_a_sender_must_not_cancel_the_request()
    {
        var (aggregator, probe, release) = Victim();
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1) { RequestId = "victim" });
        await probe.WhenStarted();

        aggregator.Tell(new CancelAggregate("victim"), ActorRefs.NoSender);
        await StatsAsync(aggregator); // mailbox order, as above
        release.SetResult();

        var reply = await requester.ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("mine", reply.Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task The_requester_itself_must_still_be_able_to_cancel()
    {
        var (aggregator, probe, _) = Victim();
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1) { RequestId = "victim" });
        await probe.WhenStarted();

        requester.Send(aggregator, new CancelAggregate("victim"));

        var reply = await requester.ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(AggregationCancelled.ByRequester, Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await probe.WhenCancelled();
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Cancelling_AggregateAsync_must_still_fire_every_fetchs_token_as_caller_cancelled()
    {
        var first = new TokenProbe();
        var causes = new TaskCompletionSource<CancellationCause?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("first", Fetches.Hang<int, string>(first))
            .Fetch("second", async context =>
            {
                context.CancellationToken.Register(() => causes.TrySetResult(context.Cause));
                second.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return "never";
            })
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));
        using var cts = new CancellationTokenSource();

        var call = aggregator.AggregateAsync<int, string>(1, cancellationToken: cts.Token);
        await Task.WhenAll(first.WhenStarted(), second.Task.WaitAsync(Generous));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // Well before the 30 s deadline: the cancel reached the request.
        await first.WhenCancelled();
        Assert.Equal(CancellationCauseKind.CallerCancelled, (await causes.Task.WaitAsync(Generous))?.Kind);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Generated_request_ids_must_be_random_guids()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<string>()
            .Fetch("echo", (string key, CancellationToken _) => Task.FromResult(key))
            .Build()));

        aggregator.Tell(new Aggregate<string>("a"));
        aggregator.Tell(new Aggregate<string>(null!)); // rejected: the id is generated all the same
        aggregator.Tell(new Aggregate<int>(5));        // rejected: wrong key type
        aggregator.Tell(new Aggregate<string>("b"));
        aggregator.Tell(new Aggregate<string>("c"));

        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await ExpectMsgAsync<IAggregateReply>(Generous)).RequestId);
        Output.WriteLine(string.Join(", ", ids));
        Assert.All(ids, id => Assert.True(Guid.TryParseExact(id, "N", out _), $"'{id}' is not a random Guid (format N)"));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        await AwaitQuietAsync(aggregator);
    }
}
