using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// An Ask fetcher's conversation ends with its request: a target that answers late, or dies late, is not an error and
/// must not leave dead letters behind (a busy service answering after the deadline is ordinary, not noise for the logs).
/// </summary>
public sealed class AskFetcherDeadLetterSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private sealed record Lookup(int Id);

    private sealed record Found(string Name);

    private sealed record Release;

    /// <summary>Holds the request until told <see cref="Release"/>, then answers it and reports that the answer is sent.</summary>
    private sealed class LateService : ReceiveActor
    {
        public LateService(TaskCompletionSource received, TaskCompletionSource replied)
        {
            IActorRef? asker = null;
            Receive<Lookup>(_ =>
            {
                asker = Sender;
                received.TrySetResult();
            });
            Receive<Release>(_ =>
            {
                asker!.Tell(new Found("late"), Self);
                replied.TrySetResult();
            });
        }
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task A_reply_after_the_deadline_must_not_be_a_dead_letter()
    {
        var deadLetters = WatchDeadLetters();
        var (received, replied) = (Signal(), Signal());
        var service = Sys.ActorOf(Props.Create(() => new LateService(received, replied)), "late-after-deadline");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<Found, string>("lookup", service, id => new Lookup(id), found => found.Name)
            .WithTimeout(Ms(300))
            .Build()), "ask-past-deadline");

        aggregator.Tell(new Aggregate<int>(1));
        await received.Task.WaitAsync(Generous);
        Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        service.Tell(new Release());
        await replied.Task.WaitAsync(Generous);

        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_reply_after_a_sibling_failed_must_not_be_a_dead_letter()
    {
        var deadLetters = WatchDeadLetters();
        var (received, replied) = (Signal(), Signal());
        var service = Sys.ActorOf(Props.Create(() => new LateService(received, replied)), "late-after-failure");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<Found, string>("lookup", service, id => new Lookup(id), found => found.Name)
            .Fetch("failing", Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("orders down")))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()), "ask-after-failure");

        aggregator.Tell(new Aggregate<int>(1));
        await received.Task.WaitAsync(Generous);
        Assert.Equal("failing", Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Fetcher);
        service.Tell(new Release());
        await replied.Task.WaitAsync(Generous);

        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_target_that_dies_after_the_request_ended_must_not_cause_a_dead_letter()
    {
        var deadLetters = WatchDeadLetters();
        var (received, replied) = (Signal(), Signal());
        var service = Sys.ActorOf(Props.Create(() => new LateService(received, replied)), "dies-after-deadline");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<Found, string>("lookup", service, id => new Lookup(id), found => found.Name)
            .WithTimeout(Ms(300))
            .Build()), "ask-target-dies");

        aggregator.Tell(new Aggregate<int>(1));
        await received.Task.WaitAsync(Generous);
        Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Watch(service);
        Sys.Stop(service);
        await ExpectTerminatedAsync(service, Generous);

        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
        await AwaitQuietAsync(aggregator);
    }
}
