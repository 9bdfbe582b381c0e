using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>
/// Singleflight for aggregations (<c>WithCoalescing</c>): requests for an equal key that arrive while a run for it is going
/// join it. Each requester gets exactly one reply, with its own request id, against its own deadline; the run is cancelled
/// only when every requester in it has left; a request after the run was decided starts a fresh one.
/// </summary>
public sealed class CoalescingSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>A profile fetch that counts its runs, takes <paramref name="delay"/>, and reports its token to <paramref name="probe"/>.</summary>
    private static AggregationDefinition<string, string> Profiles(Counter runs, TimeSpan delay, TokenProbe? probe = null,
        IEqualityComparer<string>? comparer = null) =>
        Aggregation.For<string>()
            .Fetch("profile", async (name, ct) =>
            {
                runs.Increment();
                probe?.Attach(ct);
                await Task.Delay(delay, ct);
                return $"Name: {name}";
            })
            .WithCoalescing(comparer)
            .WithTimeout(TimeSpan.FromSeconds(20))
            .Build();

    [Fact]
    public async Task A_hundred_concurrent_requests_for_one_key_must_run_the_fetchers_once_and_each_get_its_own_reply()
    {
        var runs = new Counter();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(runs, Ms(500))));

        for (var i = 0; i < 100; i++) aggregator.Tell(new Aggregate<string>("Alice") { RequestId = $"r-{i}" });

        var replies = new List<AggregateSucceeded<string>>();
        for (var i = 0; i < 100; i++) replies.Add(await ExpectMsgAsync<AggregateSucceeded<string>>(Generous));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"r-{i}").Order(), replies.Select(r => r.RequestId).Order());
        Assert.All(replies, r => Assert.Equal("Name: Alice", r.Result));
        Assert.Equal(1, runs.Value);
        var stats = await StatsAsync(aggregator);
        Assert.Equal((100L, 99L, 0), (stats.Accepted, stats.Coalesced, stats.InFlight));
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task Different_keys_must_not_share_a_run_but_keys_equal_by_the_comparer_must()
    {
        var runs = new Counter();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(runs, Ms(400), comparer: StringComparer.OrdinalIgnoreCase)));

        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "alice" });
        aggregator.Tell(new Aggregate<string>("ALICE") { RequestId = "ALICE" });
        aggregator.Tell(new Aggregate<string>("Bob") { RequestId = "bob" });

        var replies = new Dictionary<string, string>();
        for (var i = 0; i < 3; i++)
        {
            var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
            replies[reply.RequestId] = reply.Result;
        }
        // The run belongs to the first key that started it.
        Assert.Equal(new Dictionary<string, string> { ["alice"] = "Name: Alice", ["ALICE"] = "Name: Alice", ["bob"] = "Name: Bob" }, replies);
        Assert.Equal(2, runs.Value);
        Assert.Equal(1, (await StatsAsync(aggregator)).Coalesced);
    }

    [Fact]
    public async Task Requesters_with_different_deadlines_must_each_get_their_own_answer_while_the_run_goes_on()
    {
        var runs = new Counter();
        var probe = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(runs, Ms(1200), probe)));
        var impatient = CreateTestProbe();
        var patient = CreateTestProbe();

        impatient.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "impatient", Timeout = Ms(300) });
        await probe.WhenStarted();
        patient.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "patient", Timeout = TimeSpan.FromSeconds(10) });

        var late = await impatient.ExpectMsgAsync<AggregateFailed>(Generous);
        var deadline = Assert.IsType<DeadlineExceeded>(late.Reason);
        Assert.Equal(("impatient", Ms(300), "profile"), (late.RequestId, deadline.Timeout, string.Join(",", deadline.Pending)));
        Assert.False(probe.WasCancelled, "the run goes on for the patient requester");

        // The patient one joined a run whose first deadline was 300 ms: the run now lasts for the patient one's 10 s.
        var ok = await patient.ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal(("patient", "Name: Alice"), (ok.RequestId, ok.Result));
        Assert.True(ok.Elapsed < TimeSpan.FromSeconds(2), $"measured from its own arrival: {ok.Elapsed}");
        Assert.Equal(1, runs.Value);
        await impatient.ExpectNoMsgAsync(Ms(200));
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task Cancelling_one_of_two_requesters_must_not_cancel_the_run_and_cancelling_both_must()
    {
        var probe = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(new Counter(), TimeSpan.FromSeconds(30), probe)));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        first.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "first" });
        second.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "second" });
        await probe.WhenStarted();

        first.Send(aggregator, new CancelAggregate("first"));
        var cancelled = await first.ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(("first", AggregationCancelled.ByRequester), (cancelled.RequestId, Assert.IsType<AggregationCancelled>(cancelled.Reason).Reason));
        await second.ExpectNoMsgAsync(Ms(300));
        Assert.False(probe.WasCancelled, "one requester left; the other still wants the run");
        first.Send(aggregator, new CancelAggregate("second")); // only a request's own requester may cancel it
        await second.ExpectNoMsgAsync(Ms(200));
        Assert.False(probe.WasCancelled);

        second.Send(aggregator, new CancelAggregate("second"));
        Assert.Equal("second", (await second.ExpectMsgAsync<AggregateFailed>(Generous)).RequestId);
        await probe.WhenCancelled(Generous);
        await first.ExpectNoMsgAsync(Ms(200));
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task The_death_of_one_requester_must_not_cancel_the_run_and_the_death_of_every_requester_must()
    {
        var probe = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(new Counter(), TimeSpan.FromSeconds(30), probe)));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        first.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "first" });
        second.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "second" });
        await probe.WhenStarted();

        Sys.Stop(first.Ref);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatsAsync(aggregator)).InFlight), Generous);
        Assert.False(probe.WasCancelled);

        Sys.Stop(second.Ref);
        await probe.WhenCancelled(Generous);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task The_run_must_be_cancelled_with_the_cause_of_the_last_requester_to_leave()
    {
        var cause = new TaskCompletionSource<CancellationCause?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<string>()
            .Fetch("profile", async context =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.CancellationToken);
                    return "never";
                }
                finally
                {
                    cause.TrySetResult(context.Cause);
                }
            })
            .WithCoalescing()
            .WithTimeout(TimeSpan.FromSeconds(20))
            .Build()));
        var cancelling = CreateTestProbe();
        var dying = CreateTestProbe();
        cancelling.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "cancelling" });
        dying.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "dying" });
        await started.Task.WaitAsync(Generous);

        cancelling.Send(aggregator, new CancelAggregate("cancelling"));
        await cancelling.ExpectMsgAsync<AggregateFailed>(Generous);
        Sys.Stop(dying.Ref);

        var fired = await cause.Task.WaitAsync(Generous);
        Assert.Equal(CancellationCauseKind.RequesterTerminated, fired?.Kind);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task Under_CollectAll_a_requester_whose_deadline_passes_first_must_get_DeadlineExceeded_and_the_others_every_part()
    {
        var slow = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<string>()
            .Fetch("fast", Fetches.After<string, string>(TimeSpan.Zero, "fast"))
            .Fetch("slow", Fetches.After<string, string>(Ms(1200), "slow", slow))
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithCoalescing()
            .Build()));
        var impatient = CreateTestProbe();
        var patient = CreateTestProbe();

        impatient.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "impatient", Timeout = Ms(300) });
        await slow.WhenStarted();
        patient.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "patient", Timeout = TimeSpan.FromSeconds(10) });

        // Combine runs once, in the run's coordinator: a requester that leaves early is told what was still pending.
        var late = Assert.IsType<DeadlineExceeded>((await impatient.ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal("slow", string.Join(",", late.Pending));
        var completed = await patient.ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal([PartStatus.Succeeded, PartStatus.Succeeded], completed.Parts.Select(p => p.Status));
        Assert.Equal("patient", completed.RequestId);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task The_requester_with_the_latest_deadline_must_get_what_the_policy_gives_at_that_deadline()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<string>()
            .Fetch("fast", Fetches.After<string, string>(TimeSpan.Zero, "fast"))
            .Fetch("slow", Fetches.Hang<string, string>())
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithCoalescing()
            .Build()));
        var early = CreateTestProbe();
        var late = CreateTestProbe();

        early.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "early", Timeout = Ms(300) });
        late.Send(aggregator, new Aggregate<string>("Alice") { RequestId = "late", Timeout = Ms(900) });

        Assert.IsType<DeadlineExceeded>((await early.ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        // The run's deadline is the late one's: the run decides it, and CollectAll answers with the parts it has.
        var completed = await late.ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal(("late", "fast"), (completed.RequestId, completed.Result));
        Assert.Equal([PartStatus.Succeeded, PartStatus.TimedOut], completed.Parts.Select(p => p.Status));
        Assert.True(completed.Elapsed >= Ms(890), $"at its own deadline: {completed.Elapsed}");
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task A_request_after_the_run_was_decided_must_start_a_fresh_run()
    {
        var runs = new Counter();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(runs, Ms(50))));

        Assert.Equal("Name: Alice", await aggregator.AggregateAsync<string, string>("Alice"));
        Assert.Equal("Name: Alice", await aggregator.AggregateAsync<string, string>("Alice"));

        Assert.Equal(2, runs.Value); // nothing is cached: a decided run is forgotten at once
        Assert.Equal(0, (await StatsAsync(aggregator)).Coalesced);
    }

    [Fact]
    public async Task A_failing_run_must_answer_every_requester_in_it_with_the_first_cause_and_its_own_id()
    {
        var error = new InvalidOperationException("profile service answered 500");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<string>()
            .Fetch("profile", Fetches.FailAfter<string, string>(Ms(300), error))
            .Fetch("orders", Fetches.Hang<string, string>())
            .WithCoalescing()
            .Build()));

        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "a" });
        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "b" });

        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var failed = await ExpectMsgAsync<AggregateFailed>(Generous);
            AssertSameError(error, Assert.IsType<FetcherFailed>(failed.Reason).Exception);
            ids.Add(failed.RequestId);
        }
        Assert.Equal(["a", "b"], ids.Order());
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task Stopping_the_aggregator_must_answer_every_requester_of_a_shared_run_once_and_fire_its_tokens()
    {
        var probe = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(new Counter(), TimeSpan.FromSeconds(30), probe)));
        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "a" });
        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "b" });
        await probe.WhenStarted();

        Sys.Stop(aggregator);

        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var failed = await ExpectMsgAsync<AggregateFailed>(Generous);
            Assert.Contains("aggregator stopped", Assert.IsType<AggregationCancelled>(failed.Reason).Reason);
            ids.Add(failed.RequestId);
        }
        Assert.Equal(["a", "b"], ids.Order());
        await probe.WhenCancelled(Generous);
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task A_shared_run_must_keep_each_requests_id_taken_and_reject_a_duplicate()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Profiles(new Counter(), TimeSpan.FromSeconds(30))));
        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "same" });

        aggregator.Tell(new Aggregate<string>("Alice") { RequestId = "same" });

        var rejected = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("a request with id 'same' is already in flight", Assert.IsType<RequestRejected>(rejected.Reason).Reason);
        aggregator.Tell(new CancelAggregate("same"));
        Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }

    [Fact]
    public async Task The_library_pages_coalescing_example_must_share_one_fan_out()
    {
        var runs = new Counter();
        var system = Sys;
        Task<string> FetchProfileAsync(int id, CancellationToken ct) => Task.Delay(200, ct).ContinueWith(_ => { runs.Increment(); return $"Name: {id}"; }, ct);
        Task<string> FetchOrdersAsync(int id, CancellationToken ct) => Task.FromResult("Order: 5");
        // snippet:begin coalescing
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", FetchProfileAsync)
            .Fetch("orders", FetchOrdersAsync)
            .WithCoalescing() // concurrent requests for one user id share one fan-out
            .Build();
        var dashboards = system.ActorOf(AggregatorActor.Props(dashboard), "coalescing-dashboards");
        var views = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => dashboards.AggregateAsync<int, string>(1)));
        // snippet:end
        Assert.All(views, view => Assert.Equal("Name: 1 | Order: 5", view));
        Assert.Equal(1, runs.Value);
    }

    private sealed class Counter
    {
        private int _value;

        public int Value => Volatile.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);
    }
}
