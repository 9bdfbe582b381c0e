using System.Collections.Concurrent;
using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Hedged fetches: a second attempt after a delay, the first success wins, the losers are cancelled naming the winner.</summary>
public sealed class HedgingSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    /// <summary>Scripted attempts: each attempt number behaves as told; records every attempt's context and when its token fired.</summary>
    private sealed class Attempts
    {
        private readonly Func<int, FetchContext<int>, Task<string>> _script;
        private readonly ConcurrentDictionary<int, FetchContext<int>> _started = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource<FetchContext<int>>> _fired = new();

        public Attempts(Func<int, FetchContext<int>, Task<string>> script) => _script = script;

        public int Started => _started.Count;

        public IReadOnlyCollection<int> Numbers => _started.Keys.Order().ToArray();

        public Task<string> Fetch(FetchContext<int> context)
        {
            _started[context.Attempt] = context;
            var fired = Fired(context.Attempt);
            context.CancellationToken.Register(() => fired.TrySetResult(context));
            return _script(context.Attempt, context);
        }

        private TaskCompletionSource<FetchContext<int>> Fired(int attempt) =>
            _fired.GetOrAdd(attempt, _ => new TaskCompletionSource<FetchContext<int>>(TaskCreationOptions.RunContinuationsAsynchronously));

        public Task<FetchContext<int>> WhenFired(int attempt) => Fired(attempt).Task.WaitAsync(TimeSpan.FromSeconds(10));

        public bool HasFired(int attempt) => Fired(attempt).Task.IsCompleted;
    }

    private static async Task<string> Hang(FetchContext<int> context)
    {
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        return "never";
    }

    private static async Task<string> After(TimeSpan delay, string value, FetchContext<int> context)
    {
        await Task.Delay(delay, context.CancellationToken);
        return value;
    }

    private IActorRef Aggregator(Attempts attempts, HedgingPolicy hedging, TimeSpan? timeout = null,
        Func<AggregationBuilder<int, string>, AggregationBuilder<int, string>>? more = null)
    {
        var builder = Aggregation.For<int>()
            .Fetch("search", attempts.Fetch, new FetchOptions { Hedging = hedging })
            .WithTimeout(timeout ?? Long);
        return Sys.ActorOf(AggregatorActor.Props((more?.Invoke(builder) ?? builder).Build()));
    }

    [Fact]
    public async Task A_slow_attempt_must_be_hedged_after_the_delay_and_the_first_success_must_win()
    {
        var attempts = new Attempts((n, context) => n == 1 ? Hang(context) : After(Ms(20), $"attempt {n}", context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(150)));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("attempt 2", reply.Result);
        Assert.True(reply.Elapsed >= Ms(150), $"the hedge started before its delay: replied after {reply.Elapsed.TotalMilliseconds} ms");
        var lost = (await attempts.WhenFired(1)).Cause!;
        Assert.Equal((CancellationCauseKind.AttemptLost, "search", 2), (lost.Kind, lost.Fetcher, lost.Attempt));
        Assert.Contains("attempt 2", lost.Description);
        Assert.Equal([1, 2], attempts.Numbers);
        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }

    [Fact]
    public async Task An_attempt_that_answers_before_the_delay_must_not_be_hedged()
    {
        var attempts = new Attempts((n, context) => After(Ms(10), $"attempt {n}", context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(500), maxAttempts: 3));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("attempt 1", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await ExpectNoMsgAsync(Ms(700));
        Assert.Equal(1, attempts.Started);
    }

    [Fact]
    public async Task A_failure_must_not_win_while_another_attempt_may_still_succeed()
    {
        // Attempt 1 is slow but succeeds; the hedge fails at once: attempt 1 still wins.
        var attempts = new Attempts((n, context) => n == 1
            ? After(Ms(400), "slow but right", context)
            : Task.FromException<string>(new InvalidOperationException($"attempt {n} failed")));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(50)));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("slow but right", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        Assert.Equal([1, 2], attempts.Numbers);
    }

    [Fact]
    public async Task A_failed_attempt_must_start_the_next_at_once_rather_than_after_the_delay()
    {
        var attempts = new Attempts((n, context) => n == 1
            ? Task.FromException<string>(new InvalidOperationException("first failed"))
            : After(Ms(10), $"attempt {n}", context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(TimeSpan.FromSeconds(10)));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("attempt 2", reply.Result);
        Assert.True(reply.Elapsed < TimeSpan.FromSeconds(5), $"waited for the hedging delay: {reply.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task When_every_attempt_fails_the_part_must_fail_with_the_last_failure_and_the_attempt_count()
    {
        var attempts = new Attempts((n, _) => Task.FromException<string>(new InvalidOperationException($"attempt {n} failed")));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(20), maxAttempts: 3));

        await EventFilter.Warning(contains: "of 3 failed").ExpectAsync(3, Generous, async () =>
        {
            aggregator.Tell(new Aggregate<int>(1));
            var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
            Assert.Equal(("search", 3), (failed.Fetcher, failed.Attempts));
            Assert.Equal("attempt 3 failed", failed.Exception.Message);
        });
        Assert.Equal(3, attempts.Started);
    }

    [Fact]
    public async Task No_attempt_must_start_after_the_request_was_decided()
    {
        var attempts = new Attempts((_, context) => Hang(context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(300), maxAttempts: 3),
            more: b => b.Fetch("failing", Fetches.FailAfter<int, string>(Ms(20), new InvalidOperationException("sibling down"))));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(CancellationCauseKind.SiblingFailed, (await attempts.WhenFired(1)).Cause!.Kind);
        await ExpectNoMsgAsync(Ms(800)); // past two hedging delays
        Assert.Equal(1, attempts.Started);
        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }

    [Fact]
    public async Task No_attempt_must_start_after_the_deadline()
    {
        var attempts = new Attempts((_, context) => Hang(context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(500), maxAttempts: 3), timeout: Ms(200));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        await ExpectNoMsgAsync(Ms(900));
        Assert.Equal(1, attempts.Started);
    }

    [Fact]
    public async Task A_losing_attempt_that_ignores_its_token_must_show_as_lingering_until_it_ends()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = new Attempts(async (n, context) =>
        {
            if (n == 1)
            {
                await release.Task; // ignores its token
                return "stubborn";
            }
            return $"attempt {n}";
        });
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(100)));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-hedged" });

        Assert.Equal("attempt 2", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AwaitAssertAsync(async () =>
        {
            var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
            var lingering = Assert.Single(report.LingeringFetches);
            Assert.Equal(("r-hedged", "search"), (lingering.RequestId, lingering.Fetcher));
        }, Generous, Ms(50));
        release.SetResult();
        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }

    [Fact]
    public async Task A_percentile_delay_must_follow_the_latencies_the_aggregator_observed()
    {
        // Warm-up: every first attempt answers in about 10 ms, so the observed p90 is far below the 3 s initial delay.
        var slowFirst = 0;
        var attempts = new Attempts((n, context) => n == 1 && Volatile.Read(ref slowFirst) == 1 ? Hang(context) : After(Ms(10), $"attempt {n}", context));
        var aggregator = Aggregator(attempts, HedgingPolicy.AtPercentile(0.9, initialDelay: TimeSpan.FromSeconds(3)) with { MinSamples = 10 });
        for (var i = 0; i < 40; i++)
        {
            aggregator.Tell(new Aggregate<int>(i));
            Assert.Equal("attempt 1", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        }

        Volatile.Write(ref slowFirst, 1);
        aggregator.Tell(new Aggregate<int>(99));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("attempt 2", reply.Result);
        Assert.True(reply.Elapsed < TimeSpan.FromSeconds(2), $"hedged after the initial delay, not the observed latency: {reply.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Every_attempt_must_see_its_own_number_and_the_part_must_count_them()
    {
        var attempts = new Attempts((n, context) => n < 3 ? Hang(context) : After(Ms(5), "third", context));
        var aggregator = Aggregator(attempts, HedgingPolicy.After(Ms(80), maxAttempts: 3),
            more: b => b.WithPolicy(CompletionPolicy.CollectAll));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal(("third", 3), (reply.Result, reply.Parts.Single().Attempts));
        Assert.Equal([1, 2, 3], attempts.Numbers);
        foreach (var loser in new[] { 1, 2 })
            Assert.Equal(3, (await attempts.WhenFired(loser)).Cause!.Attempt);
    }

    public static TheoryData<string, FetchOptions, string> BadPolicies => new()
    {
        { "one attempt", new FetchOptions { Hedging = new HedgingPolicy(1) }, "at least 2 attempts" },
        { "negative delay", new FetchOptions { Hedging = HedgingPolicy.After(Ms(-1)) }, "must not be negative" },
        { "percentile 1", new FetchOptions { Hedging = HedgingPolicy.AtPercentile(1) }, "between 0 and 1" },
        { "percentile NaN", new FetchOptions { Hedging = HedgingPolicy.AtPercentile(double.NaN) }, "between 0 and 1" },
        { "no samples", new FetchOptions { Hedging = HedgingPolicy.AtPercentile(0.9) with { MinSamples = 0 } }, "MinSamples" },
        { "retry and hedge", new FetchOptions { Hedging = HedgingPolicy.After(Ms(10)), Retry = new RetryPolicy(2) }, "retry or hedge, not both" },
    };

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public void A_bad_hedging_policy_must_be_refused_at_Build_with_a_clear_message(string _, FetchOptions options, string message)
    {
        var builder = Aggregation.For<int>().Fetch("search", (FetchContext<int> _) => Task.FromResult("x"), options);
        var error = Assert.ThrowsAny<ArgumentException>(() => builder.Build());
        Assert.Contains(message, error.Message);
    }
}
