using System.Net;
using System.Net.Sockets;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>
/// Promises the READMEs make about the contract (request ids, who may cancel, deadlines, the rejection log, what a failure
/// carries, when fetcher actors stop, what AggregateAsync waits for) that no other spec pins down.
/// Debug logging is on, to see the events the READMEs say are logged at Debug.
/// </summary>
public sealed class ContractSpecs(ITestOutputHelper output)
    : AggregationSpec(output, ConfigurationFactory.ParseString("akka.loglevel = DEBUG"))
{
    private static AggregationDefinition<int, string> Hanging(TokenProbe? probe = null) =>
        Aggregation.For<int>().Fetch("slow", Fetches.Hang<int, string>(probe)).WithTimeout(TimeSpan.FromSeconds(30)).Build();

    private static AggregationDefinition<int, string> Quick() =>
        Aggregation.For<int>().Fetch("echo", (id, _) => Task.FromResult($"#{id}")).Build();

    /// <summary>Collects the log events of the test system whose message contains <paramref name="text"/>.</summary>
    private Akka.TestKit.TestProbe LogProbe()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(LogEvent));
        return probe;
    }

    private static async Task<List<LogEvent>> CollectAsync(Akka.TestKit.TestProbe probe, string text, TimeSpan during)
    {
        var found = new List<LogEvent>();
        var until = DateTime.UtcNow + during;
        while (DateTime.UtcNow < until)
        {
            if (await probe.ReceiveOneAsync(until - DateTime.UtcNow) is LogEvent e && e.Message.ToString()!.Contains(text, StringComparison.Ordinal))
                found.Add(e);
        }
        return found;
    }

    [Fact]
    public async Task A_CancelAggregate_from_anyone_but_the_requester_must_be_ignored_and_logged_at_Debug()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>().Fetch("gated", (_, _) => release.Task).Build()));
        var stranger = CreateTestProbe();
        var logs = LogProbe();

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "mine" }, TestActor);
        stranger.Send(aggregator, new CancelAggregate("mine"));
        aggregator.Tell(new CancelAggregate("mine"), ActorRefs.NoSender);

        var ignored = await CollectAsync(logs, "CancelAggregate for mine from", TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, ignored.Count);
        Assert.All(ignored, e => Assert.Equal(Akka.Event.LogLevel.DebugLevel, e.LogLevel()));
        Assert.All(ignored, e => Assert.Contains("only its requester may cancel it", e.Message.ToString()));
        release.SetResult("still running, then done");
        Assert.Equal("still running, then done", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await stranger.ExpectNoMsgAsync(Ms(100));
    }

    [Fact]
    public async Task A_generated_request_id_must_be_a_random_guid_in_N_format()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Quick()));

        aggregator.Tell(new Aggregate<int>(1));
        aggregator.Tell(new Aggregate<int>(2));

        var ids = new[] { (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).RequestId, (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).RequestId };
        Assert.All(ids, id => Assert.True(Guid.TryParseExact(id, "N", out _), $"'{id}' is not a GUID in N format"));
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public async Task A_sequential_client_at_max_in_flight_1_must_never_be_told_busy_and_may_reuse_its_id_at_once()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Quick(), AggregationSettings.Create(Sys).WithMaxInFlight(1)));

        for (var i = 0; i < 200; i++)
        {
            aggregator.Tell(new Aggregate<int>(i) { RequestId = "same-id" });
            var reply = await ExpectMsgAsync<IAggregateReply>(Generous);
            Assert.True(reply is AggregateSucceeded<string>, $"request {i}: {reply}");
        }
        for (var i = 0; i < 200; i++) Assert.Equal($"#{i}", await aggregator.AggregateAsync<int, string>(i));

        var stats = await StatsAsync(aggregator);
        Assert.Equal((400L, 0L), (stats.Accepted, stats.Rejected));
    }

    [Fact]
    public async Task A_timeout_over_49_days_must_be_refused_wherever_it_is_given()
    {
        var tooLong = AggregationSettings.MaxTimeout + TimeSpan.FromDays(1);
        Assert.Equal(TimeSpan.FromDays(49), AggregationSettings.MaxTimeout);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Quick()));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "long", Timeout = tooLong });
        var rejected = Assert.IsType<RequestRejected>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Contains("must be at most 49 days", rejected.Reason);
        var thrown = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1, tooLong));
        Assert.IsType<RequestRejected>(thrown.Reason);

        Assert.Contains("at most 49 days", Assert.Throws<ArgumentException>(() => Aggregation.For<int>()
            .Fetch("a", (_, _) => Task.FromResult("a")).WithTimeout(tooLong).Build()).Message);
        Assert.Throws<ArgumentException>(() => Quick().WithTimeout(tooLong));
        Assert.Throws<ArgumentException>(() => AggregationSettings.Create(Sys).WithDefaultTimeout(tooLong));
        Assert.Throws<ArgumentException>(() => AggregationSettings.Create(ConfigurationFactory.ParseString("default-timeout = 50d")));
        Assert.Equal(AggregationSettings.MaxTimeout, Quick().WithTimeout(AggregationSettings.MaxTimeout).Timeout);
    }

    [Fact]
    public async Task Rejections_must_be_summed_up_in_the_log_once_per_interval()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Quick(), AggregationSettings.Create(Sys).WithRejectionLogInterval(Ms(500))));
        var logs = LogProbe();

        for (var i = 0; i < 4; i++) aggregator.Tell(new Aggregate<int>(i) { RequestId = $"bad-{i}", Timeout = Ms(-1) });
        for (var i = 0; i < 4; i++) await ExpectMsgAsync<AggregateFailed>(Generous);
        var events = await CollectAsync(logs, "reject", TimeSpan.FromMilliseconds(1500));

        var warnings = events.Where(e => e.LogLevel() == Akka.Event.LogLevel.WarningLevel).Select(e => e.Message.ToString()!).ToArray();
        var debugs = events.Where(e => e.LogLevel() == Akka.Event.LogLevel.DebugLevel).ToArray();
        Assert.Equal(2, warnings.Length);
        Assert.Contains("Aggregation bad-0 rejected: the timeout must be positive", warnings[0]);
        Assert.Contains("rejected 3 more requests in the last 500 ms: 0 busy (max-in-flight 10000), 3 invalid", warnings[1]);
        Assert.Equal(3, debugs.Length);

        // Quiet for an interval: the next rejection is a Warning with its reason again.
        aggregator.Tell(new Aggregate<int>(9) { RequestId = "bad-again", Timeout = Ms(-1) });
        await ExpectMsgAsync<AggregateFailed>(Generous);
        var again = await CollectAsync(logs, "bad-again", TimeSpan.FromMilliseconds(300));
        Assert.Equal(Akka.Event.LogLevel.WarningLevel, Assert.Single(again).LogLevel());
    }

    /// <summary>A context fetch that records the cause its token fired with.</summary>
    private sealed class CauseRecorder
    {
        private readonly TaskCompletionSource<CancellationCause?> _cause = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<CancellationCause?> Cause => _cause.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public Task<string> Finish(FetchContext<int> context, string part)
        {
            context.CancellationToken.Register(() => _cause.TrySetResult(context.Cause));
            return Task.FromResult(part);
        }
    }

    [Fact]
    public async Task After_a_success_every_token_must_fire_the_finished_fetches_with_FetchFinished_and_the_losers_with_RequestCompleted()
    {
        var winner = new CauseRecorder();
        var loserCause = new TaskCompletionSource<CancellationCause?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("quick", context => winner.Finish(context, "quick"))
            .Fetch("loser", async context =>
            {
                context.CancellationToken.Register(() => loserCause.TrySetResult(context.Cause));
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return "never";
            })
            .WithPolicy(CompletionPolicy.FirstSuccess)
            .Build();

        Assert.Equal("quick", await Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(1));

        Assert.Equal(CancellationCauseKind.FetchFinished, (await winner.Cause)?.Kind);
        Assert.Equal(CancellationCauseKind.RequestCompleted, (await loserCause.Task.WaitAsync(Generous))?.Kind);
    }

    [Fact]
    public async Task A_finished_fetch_whose_actor_stops_while_the_request_goes_on_must_see_FetchFinished()
    {
        var recorder = new CauseRecorder();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("quick", context => recorder.Finish(context, "quick"))
            .Fetch("gated", (_, _) => release.Task)
            .WithPolicy(CompletionPolicy.CollectAll)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var cause = await recorder.Cause; // before the request is decided: it waits for "gated"
        Assert.Equal(CancellationCauseKind.FetchFinished, cause?.Kind);
        release.SetResult("gated");
        Assert.Equal("quick | gated", (await ExpectMsgAsync<AggregateCompleted<string>>(Generous)).Result);
    }

    [Theory]
    [InlineData("FailFast", new[] { "quick", "slow", "failing" })]
    [InlineData("CollectAll", new[] { "slow" })]
    [InlineData("Quorum(2)", new[] { "slow" })]
    public async Task Fetcher_actors_must_stop_with_the_request_under_FailFast_and_as_soon_as_they_finish_otherwise(string policy, string[] alive)
    {
        var definition = Aggregation.For<int>()
            .Fetch("quick", (_, _) => Task.FromResult("quick"))
            .Fetch("slow", Fetches.Hang<int, string>())
            .Fetch("failing", policy == "FailFast" ? Fetches.Hang<int, string>() : Fetches.FailAfter<int, string>(Ms(1), new InvalidOperationException("down")))
            .WithPolicy(policy switch { "FailFast" => CompletionPolicy.FailFast, "CollectAll" => CompletionPolicy.CollectAll, _ => CompletionPolicy.Quorum(2) })
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r" });

        await AwaitAssertAsync(async () =>
        {
            var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
            Assert.Equal(alive, Assert.Single(report.InFlight).LiveFetchers);
        }, Generous, Ms(50));
        if (policy == "FailFast") await ExpectNoMsgAsync(Ms(200)); // nothing stops one by one: still all three
        var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
        Assert.Equal(alive, Assert.Single(report.InFlight).LiveFetchers);
        aggregator.Tell(new CancelAggregate("r"));
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task FetcherFailed_must_carry_the_very_exception_even_a_cancellation_of_the_fetchs_own()
    {
        var own = new OperationCanceledException("the fetch's own timeout, not its token");
        var sibling = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch<string>("own-timeout", async (_, _) =>
            {
                await Task.Delay(20);
                throw own;
            })
            .Fetch("sibling", Fetches.Hang<int, string>(sibling))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() =>
            Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(1));

        var failed = Assert.IsType<FetcherFailed>(error.Reason);
        Assert.Equal("own-timeout", failed.Fetcher);
        AssertSameError(own, failed.Exception);
        AssertSameError(own, error.InnerException);
        await sibling.WhenCancelled(Generous);
    }

    [Fact]
    public async Task An_HttpClient_timeout_must_fail_the_fetcher_with_HttpClients_own_exception()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0); // accepts, never answers
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HttpClient { Timeout = Ms(200) };
        var definition = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => http.GetStringAsync($"http://127.0.0.1:{port}/profile/{id}", ct))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() =>
            Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(1));

        var failed = Assert.IsType<FetcherFailed>(error.Reason);
        AssertErrorType<TaskCanceledException>(failed.Exception);
        AssertErrorType<TimeoutException>(failed.Exception.InnerException);
    }

    private sealed class UnprintableException : Exception
    {
        public override string Message => throw new InvalidOperationException("no message today");
    }

    [Fact]
    public async Task Describing_a_failure_must_never_throw_even_when_the_exceptions_Message_does()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("rude", (id, _) => id == 1 ? throw new UnprintableException() : Task.FromResult("fine"))
            .Build()));

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        Assert.Equal("fetcher 'rude' failed: UnprintableException: (its Message threw InvalidOperationException)", error.Reason.Describe());
        Assert.Equal("fine", await aggregator.AggregateAsync<int, string>(2));
    }

    private sealed record Question(int Id);

    /// <summary>Answers after <paramref name="delay"/>, then stops: a late reply and a late death, both after the request was decided.</summary>
    private sealed class LateTarget : ReceiveActor
    {
        public LateTarget(TimeSpan delay)
        {
            ReceiveAsync<Question>(async question =>
            {
                var sender = Sender;
                await Task.Delay(delay);
                sender.Tell($"answer {question.Id}");
                Context.Stop(Self);
            });
        }
    }

    [Fact]
    public async Task A_late_reply_to_an_ask_fetcher_and_its_targets_late_death_must_be_dropped_not_dead_letters()
    {
        var target = Sys.ActorOf(Props.Create(() => new LateTarget(Ms(400))), "late-target");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<string, string>("ask", target, id => new Question(id), answer => answer)
            .WithTimeout(Ms(150))
            .Build()));
        var deadLetters = WatchDeadLetters();
        Watch(target);

        aggregator.Tell(new Aggregate<int>(1));

        Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        await ExpectTerminatedAsync(target, Generous); // it has replied by now
        var letters = new List<AllDeadLetters>();
        while (await deadLetters.ReceiveOneAsync(Ms(300)) is AllDeadLetters letter) letters.Add(letter);
        Assert.DoesNotContain(letters, l => l.Message is string or Akka.Dispatch.SysMsg.DeathWatchNotification || l.Sender.Equals(target));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task AggregateAsync_must_wait_for_the_aggregations_deadline_not_the_hosts_ask_timeout()
    {
        var system = ActorSystem.Create("short-ask-timeout", ConfigurationFactory.ParseString("akka.actor.ask-timeout = 100ms").WithFallback(SpecConfig));
        try
        {
            var aggregator = system.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
                .Fetch("slow", Fetches.After<int, string>(Ms(600), "worth the wait"))
                .WithTimeout(TimeSpan.FromSeconds(5))
                .Build()));

            Assert.Equal("worth the wait", await aggregator.AggregateAsync<int, string>(1));
            Assert.Equal("worth the wait", await aggregator.AggregateAsync<int, string>(1, TimeSpan.FromSeconds(2)));
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>Creates an aggregator as its child and hands out the child's ref.</summary>
    private sealed class Parent : ReceiveActor
    {
        public Parent(AggregationDefinition<int> definition)
        {
            var child = Context.ActorOf(AggregatorActor.Props(definition), "aggregator");
            ReceiveAny(_ => Sender.Tell(child));
        }
    }

    [Theory]
    [InlineData("top-level")]
    [InlineData("child")]
    public async Task AggregateAsync_on_a_local_aggregator_known_to_have_stopped_must_fail_at_once(string kind)
    {
        // system.ActorOf and Context.ActorOf hand out different kinds of local refs; both are known dead here.
        var aggregator = kind == "child"
            ? await Sys.ActorOf(Props.Create(() => new Parent(Quick()))).Ask<IActorRef>("your child", Generous)
            : Sys.ActorOf(AggregatorActor.Props(Quick()));
        Assert.Equal("#1", await aggregator.AggregateAsync<int, string>(1));
        Watch(aggregator);
        Sys.Stop(aggregator);
        await ExpectTerminatedAsync(aggregator, Generous);

        var call = aggregator.AggregateAsync<int, string>(1);

        Assert.True(call.IsCompleted, "the call must not wait for a reply that cannot come");
        var error = await Assert.ThrowsAsync<AggregationFailedException>(() => call);
        Assert.Contains("is not running", Assert.IsType<AggregationCancelled>(error.Reason).Reason);
    }

    [Fact]
    public async Task AggregateAsync_with_a_timeout_must_give_up_5_s_after_it_when_no_reply_comes()
    {
        var aggregator = Sys.ActorOf(Props.Create(() => new Edges.BlackHole(null))); // alive, but not an aggregator: it never answers
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1, Ms(200)));

        Assert.Contains("is the aggregator running?", Assert.IsType<AggregationCancelled>(error.Reason).Reason);
        Assert.InRange(MsSince(started), 5_000, 5_000 + 200 + 5_000);
    }
}
