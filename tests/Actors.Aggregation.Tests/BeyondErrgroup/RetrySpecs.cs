using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Retries inside the fetcher's actor, bounded by the request's deadline.</summary>
public sealed class RetrySpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly RetryPolicy ThreeQuick = new(3) { InitialBackoff = TimeSpan.FromMilliseconds(60), Jitter = 0 };

    [Fact]
    public async Task A_transient_failure_must_be_retried_with_exponential_backoff_and_siblings_untouched()
    {
        var attempts = new ConcurrentQueue<(int Attempt, long At)>();
        var sibling = new TokenProbe();
        var siblingCancelledDuringRetries = false;
        var definition = Aggregation.For<int>()
            .Fetch("flaky", context =>
            {
                attempts.Enqueue((context.Attempt, Stopwatch.GetTimestamp()));
                if (context.Attempt > 1 && sibling.WasCancelled) siblingCancelledDuringRetries = true;
                return context.Attempt < 3 ? Task.FromException<string>(new TimeoutException($"attempt {context.Attempt}")) : Task.FromResult("third time lucky");
            }, ThreeQuick)
            .Fetch("sibling", Fetches.After<int, string>(Ms(20), "sibling", sibling))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("third time lucky | sibling", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        var log = attempts.ToArray();
        Assert.Equal(new[] { 1, 2, 3 }, log.Select(a => a.Attempt));
        var first = MsBetween(log[0].At, log[1].At);
        var second = MsBetween(log[1].At, log[2].At);
        Output.WriteLine($"backoffs: {first:0.0} ms, {second:0.0} ms");
        // Lower bounds only: a busy machine makes waits longer. The backoff is a Task.Delay, and .NET's timer queue reads a
        // coarse clock (Environment.TickCount64, a few ms per step on Linux), so a delay may end a few ms early: allow 10 ms.
        const double coarseClock = 10;
        Assert.True(first >= 60 - coarseClock, $"first backoff is the initial 60 ms, was {first:0.0}");
        Assert.True(second >= 120 - coarseClock, $"second backoff doubles to 120 ms, was {second:0.0}");
        Assert.False(siblingCancelledDuringRetries);
    }

    [Fact]
    public async Task A_spent_budget_must_fail_the_group_with_the_attempt_count_and_log_every_attempt()
    {
        var calls = 0;
        var definition = Aggregation.For<int>()
            .Fetch("down", (int _, CancellationToken _) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromException<string>(new TimeoutException("still down"));
            }, ThreeQuick)
            .Fetch("other", Fetches.Hang<int, string>())
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        await EventFilter.Warning(contains: "of 3 failed (still down); retrying in").ExpectAsync(2, Generous, async () =>
        {
            aggregator.Tell(new Aggregate<int>(1));
            var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
            Assert.Equal("down", failed.Fetcher);
            Assert.Equal(3, failed.Attempts);
            AssertErrorType<TimeoutException>(failed.Exception);
            Assert.Contains("after 3 attempts", failed.Describe());
        });
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_non_transient_failure_must_not_be_retried()
    {
        var calls = 0;
        var retry = new RetryPolicy(5) { InitialBackoff = TimeSpan.FromMilliseconds(10) }.Handle<TimeoutException>();
        var definition = Aggregation.For<int>()
            .Fetch("bad-request", (int _, CancellationToken _) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromException<string>(new ArgumentException("malformed id"));
            }, retry)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(1, failed.Attempts);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_retry_must_be_cut_short_when_its_backoff_would_pass_the_deadline()
    {
        var calls = 0;
        var retry = new RetryPolicy(5) { InitialBackoff = TimeSpan.FromSeconds(2), Jitter = 0 };
        var definition = Aggregation.For<int>()
            .Fetch("down", (int _, CancellationToken _) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromException<string>(new TimeoutException("down"));
            }, retry)
            .WithTimeout(Ms(800))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        await EventFilter.Warning(contains: "no retry: a 2000 ms backoff would pass the deadline").ExpectOneAsync(Generous, async () =>
        {
            aggregator.Tell(new Aggregate<int>(1));
            var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
            var failed = Assert.IsType<FetcherFailed>(reply.Reason);
            Assert.Equal(1, failed.Attempts);
            Assert.True(reply.Elapsed < Ms(800), $"failed before the deadline instead of waiting for it: {reply.Elapsed}");
        });
        Assert.Equal(1, calls);
    }

    [Fact]
    public void An_invalid_retry_policy_must_be_rejected_at_Build()
    {
        Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", Fetches.Hang<int, string>(), new RetryPolicy(0)).Build());
        Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", Fetches.Hang<int, string>(), new RetryPolicy(2) { Jitter = 2 }).Build());
    }

    [Fact]
    public async Task Every_part_outcome_must_count_the_attempts_its_fetch_started()
    {
        // Two slots: the two retried fetchers first, then two that hang and hold both slots, so the last never starts.
        var definition = Aggregation.For<int>()
            .Fetch("always-failing", context => Task.FromException<string>(new TimeoutException($"attempt {context.Attempt}")), ThreeQuick)
            .Fetch("second-time", context =>
                context.Attempt == 1 ? Task.FromException<string>(new TimeoutException("first")) : Task.FromResult("ok"), ThreeQuick)
            .Fetch("hanging-retried", Fetches.Hang<int, string>(), ThreeQuick)
            .Fetch("hanging", Fetches.Hang<int, string>())
            .Fetch("never-started", Fetches.After<int, string>(Ms(1), "late"))
            .WithMaxConcurrency(2)
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(TimeSpan.FromSeconds(2))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var parts = (await ExpectMsgAsync<AggregateCompleted<string>>(TimeSpan.FromSeconds(10))).Parts;
        Assert.Equal([PartStatus.Failed, PartStatus.Succeeded, PartStatus.TimedOut, PartStatus.TimedOut, PartStatus.NotStarted],
            parts.Select(p => p.Status));
        Assert.Equal([3, 2, 1, 1, 0], parts.Select(p => p.Attempts));
    }
}
