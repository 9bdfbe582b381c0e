using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Event;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>h. Nothing outlives its request: actors stop, late results go nowhere, abandoned fetches are counted and logged.</summary>
public sealed class LeakSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task After_a_request_ends_its_coordinator_and_fetchers_must_be_stopped()
    {
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.After<int, string>(Ms(10), "a"))
            .Fetch("b", Fetches.After<int, string>(Ms(20), "b"))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "leaks");

        aggregator.Tell(new Aggregate<int>(1));
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);

        await AwaitQuietAsync(aggregator);
        Assert.Equal(0, await CountActorsAsync("/user/leaks/*"));
        var stats = await StatsAsync(aggregator);
        Assert.Equal(new AggregatorStats(0, 0, 0, 0, 1, 0), stats);
    }

    [Fact]
    public async Task A_fetch_that_ignores_its_token_must_be_counted_and_logged_as_abandoned_and_its_late_result_dropped()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "late"))
            .Fetch("failing", Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("boom")))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        var deadLetters = WatchDeadLetters();

        await EventFilter.Warning(contains: "Fetch stubborn of r-abandon ignored its cancellation").ExpectOneAsync(Generous, async () =>
        {
            aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-abandon" });
            Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        });

        var lingering = await StatsAsync(aggregator);
        Assert.Equal(1, lingering.LingeringFetches);
        Assert.Equal(1, lingering.AbandonedFetches);
        Assert.Equal(0, lingering.LiveFetchers);

        await EventFilter.Warning(contains: "Abandoned fetch stubborn of r-abandon finished").ExpectOneAsync(Generous,
            () => { release.SetResult("late"); return Task.CompletedTask; });
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatsAsync(aggregator)).LingeringFetches), Generous);
        await ExpectNoMsgAsync(Ms(200));
        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
    }

    [Fact]
    public async Task Cooperative_fetches_cancelled_by_a_sibling_must_not_count_as_abandoned_nor_make_dead_letters()
    {
        var deadLetters = WatchDeadLetters();
        var definition = Aggregation.For<int>()
            .Fetch("a", Fetches.Hang<int, string>())
            .Fetch("b", Fetches.Hang<int, string>())
            .Fetch("fails", Fetches.FailAfter<int, string>(Ms(30), new InvalidOperationException("boom")))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        for (var i = 0; i < 20; i++) aggregator.Tell(new Aggregate<int>(i));
        for (var i = 0; i < 20; i++) await ExpectMsgAsync<AggregateFailed>(Generous);

        await AwaitQuietAsync(aggregator);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await StatsAsync(aggregator)).LingeringFetches), Generous);
        Assert.Equal(0, (await StatsAsync(aggregator)).AbandonedFetches);
        await ExpectNoDeadLettersAsync(deadLetters, aggregator);
    }

    [Fact]
    public async Task A_late_fault_of_an_abandoned_fetch_must_not_become_an_unobserved_task_exception()
    {
        var unobserved = 0;
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.InnerException?.Message == "late fault") Interlocked.Increment(ref unobserved);
        }
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var definition = Aggregation.For<int>()
                .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "never"))
                .WithTimeout(Ms(200))
                .Build();
            var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

            aggregator.Tell(new Aggregate<int>(1));
            Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
            release.SetException(new InvalidOperationException("late fault"));
            await AwaitAssertAsync(async () => Assert.Equal(0, (await StatsAsync(aggregator)).LingeringFetches), Generous);

            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.Equal(0, Volatile.Read(ref unobserved));
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }
}
