using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Optional parts with a fallback, and a budget of its own per part inside the request's deadline.</summary>
public sealed class OptionalPartSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    /// <summary>A fetch that honours its token, never finishes on its own, and hands back its context when its token fires.</summary>
    private sealed class HangingFetch
    {
        private readonly TaskCompletionSource<FetchContext<int>> _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<T> Run<T>(FetchContext<int> context)
        {
            context.CancellationToken.Register(() => _fired.TrySetResult(context));
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return default!;
        }

        public Task<FetchContext<int>> Fired => _fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
        public bool HasFired => _fired.Task.IsCompleted;
    }

    private static string Dashboard(AggregationParts parts) =>
        $"Name: {parts.Get<string>("profile")} | Order: {(parts.TryGet<int>("orders", out var orders) ? orders.ToString() : "none")}" +
        (parts.IsFallback("orders") ? " (fallback)" : "");

    [Fact]
    public async Task An_optional_part_that_fails_must_fall_back_and_leave_its_siblings_running()
    {
        var profile = new TokenProbe();
        var down = new InvalidOperationException("orders service down");
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(300), "Alice", profile))
            .Fetch("orders", Fetches.FailAfter<int, int>(Ms(10), down), new FetchOptions { Fallback = Fallback.To(0) })
            .Combine(Dashboard)
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-1" });

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("Name: Alice | Order: 0 (fallback)", reply.Result);
        var fellBack = Assert.Single(reply.FellBack);
        Assert.Equal(("orders", PartStatus.FellBack, (object?)0), (fellBack.Fetcher, fellBack.Status, fellBack.Value));
        AssertSameError(down, fellBack.Error);
        // The profile fetch ran to its end: the optional failure cancelled nobody (its token fired only as the request ended).
        Assert.True(reply.Elapsed >= Ms(280), $"replied after {reply.Elapsed.TotalMilliseconds} ms, before the profile was in");
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task An_optional_part_that_runs_out_of_its_own_budget_must_fall_back_at_once_with_its_own_cause()
    {
        var orders = new HangingFetch();
        var profile = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(50), "Alice", profile))
            .Fetch("orders", orders.Run<int>, new FetchOptions { Timeout = Ms(300), Fallback = Fallback.Omit })
            .Combine(Dashboard)
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("Name: Alice | Order: none (fallback)", reply.Result);
        Assert.True(reply.Elapsed >= Ms(290) && reply.Elapsed < Long / 2, $"replied after {reply.Elapsed.TotalMilliseconds} ms");
        var fellBack = Assert.Single(reply.FellBack);
        Assert.Null(fellBack.Value);
        AssertErrorType<PartTimeoutException>(fellBack.Error);
        var context = await orders.Fired;
        Assert.Equal(CancellationCauseKind.PartTimedOut, context.Cause!.Kind);
        Assert.Equal("orders", context.Cause.Fetcher);
        Assert.Contains("300 ms budget", context.Cause.Description);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_required_part_that_runs_out_of_its_own_budget_must_fail_the_request_and_cancel_its_siblings()
    {
        var slow = new HangingFetch();
        var sibling = new HangingFetch();
        var definition = Aggregation.For<int>()
            .Fetch("slow", slow.Run<string>, new FetchOptions { Timeout = Ms(200) })
            .Fetch("sibling", sibling.Run<string>)
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var failure = await ExpectMsgAsync<AggregateFailed>(Generous);
        var failed = Assert.IsType<FetcherFailed>(failure.Reason);
        Assert.Equal("slow", failed.Fetcher);
        AssertErrorType<PartTimeoutException>(failed.Exception);
        Assert.True(failure.Elapsed < Long / 2, $"failed after {failure.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(CancellationCauseKind.PartTimedOut, (await slow.Fired).Cause!.Kind);
        var siblingCause = (await sibling.Fired).Cause!;
        Assert.Equal((CancellationCauseKind.SiblingFailed, "slow"), (siblingCause.Kind, siblingCause.Fetcher));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_part_whose_own_budget_is_longer_than_the_deadline_must_be_bounded_by_the_deadline()
    {
        var slow = new HangingFetch();
        var definition = Aggregation.For<int>()
            .Fetch("slow", slow.Run<string>, new FetchOptions { Timeout = TimeSpan.FromMinutes(5) })
            .WithTimeout(Ms(300))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var failure = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(["slow"], Assert.IsType<DeadlineExceeded>(failure.Reason).Pending);
        Assert.Equal(CancellationCauseKind.DeadlineExceeded, (await slow.Fired).Cause!.Kind);
    }

    [Fact]
    public async Task At_the_deadline_with_only_optional_parts_running_the_request_must_succeed_with_their_fallbacks()
    {
        var recommendations = new HangingFetch();
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Alice"))
            .Fetch("recommendations", recommendations.Run<string>, new FetchOptions { Fallback = Fallback.To("popular items") })
            .WithTimeout(Ms(400))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("Alice | popular items", reply.Result);
        var fellBack = Assert.Single(reply.FellBack);
        AssertErrorType<PartTimeoutException>(fellBack.Error);
        Assert.Contains("deadline passed", fellBack.Error!.Message);
        Assert.Equal(CancellationCauseKind.DeadlineExceeded, (await recommendations.Fired).Cause!.Kind);
    }

    [Fact]
    public async Task A_required_part_missing_at_the_deadline_must_still_fail_the_request()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>())
            .Fetch("recommendations", Fetches.Hang<int, string>(), new FetchOptions { Fallback = Fallback.Omit })
            .WithTimeout(Ms(300))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var failure = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Contains("profile", Assert.IsType<DeadlineExceeded>(failure.Reason).Pending);
    }

    [Fact]
    public async Task Under_CollectAll_a_fallen_back_part_must_say_so_in_its_outcome()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Alice"))
            .Fetch("orders", Fetches.ThrowsAtOnce<int, int>(new InvalidOperationException("down")), new FetchOptions { Fallback = Fallback.To(0) })
            .Fetch("reviews", Fetches.ThrowsAtOnce<int, int>(new InvalidOperationException("reviews down")))
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal([PartStatus.Succeeded, PartStatus.FellBack, PartStatus.Failed], reply.Parts.Select(p => p.Status));
        Assert.Equal(0, reply.Parts[1].Value);
        Assert.Equal("Alice | 0", reply.Result);
        Assert.False(reply.AllSucceeded);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_timed_out_part_that_ignores_its_token_must_not_delay_the_reply_and_must_show_as_lingering_until_it_ends()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Alice"))
            .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "late"), new FetchOptions { Timeout = Ms(200), Fallback = Fallback.To("n/a") })
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-stubborn" });

        Assert.Equal("Alice | n/a", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AwaitAssertAsync(async () =>
        {
            var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
            Assert.Equal(("r-stubborn", "stubborn"), (report.LingeringFetches.Single().RequestId, report.LingeringFetches.Single().Fetcher));
        }, Generous, Ms(50));
        release.SetResult();
        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }

    [Fact]
    public async Task The_fetch_context_must_count_the_parts_own_budget_as_its_time_left()
    {
        var remaining = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("budgeted", context =>
            {
                remaining.TrySetResult(context.Remaining);
                return Task.FromResult("done");
            }, new FetchOptions { Timeout = Ms(500) })
            .WithTimeout(Long)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        var left = await remaining.Task.WaitAsync(Generous);
        Assert.True(left <= Ms(500) && left > TimeSpan.Zero, $"time left was {left.TotalMilliseconds} ms");
    }

    public static TheoryData<string, Func<AggregationBuilder<int, string>, AggregationBuilder<int, string>>, string> BadOptions => new()
    {
        { "fallback of another type", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Fallback = Fallback.To("none") }), "its fallback is String, but its parts are Int32" },
        { "null fallback for a value type", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Fallback = Fallback.To<string?>(null) }), "its fallback is null" },
        { "zero own timeout", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Timeout = TimeSpan.Zero }), "must be positive" },
        { "negative own timeout", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Timeout = Ms(-5) }), "must be positive" },
        { "optional under FirstSuccess", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Fallback = Fallback.Omit }).WithPolicy(CompletionPolicy.FirstSuccess), "none can be optional" },
        { "optional under a quorum", b => b.Fetch("orders", Fetches.After<int, int>(Ms(1), 5), new FetchOptions { Fallback = Fallback.Omit }).WithPolicy(CompletionPolicy.Quorum(1)), "none can be optional" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_option_must_be_refused_at_Build_with_a_clear_message(string _, Func<AggregationBuilder<int, string>, AggregationBuilder<int, string>> add, string message)
    {
        var builder = add(Aggregation.For<int>().Fetch("profile", Fetches.After<int, string>(Ms(1), "Alice")));
        var error = Assert.ThrowsAny<ArgumentException>(() => builder.Build());
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_null_fallback_for_a_reference_part_must_be_accepted()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(1), "Alice"), new FetchOptions { Fallback = Fallback.To<string?>(null) })
            .Build();
        Assert.Single(definition.FetcherNames);
    }
}
