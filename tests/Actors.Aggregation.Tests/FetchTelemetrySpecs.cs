using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>
/// Fetch spans under the request span, and the fetch instruments: parentage down to an HttpClient call, the decisive
/// failure and its cancelled siblings (cause and link), deadline, abandoned with late completion, retries and hedges, Ask
/// and Nested, the setting that turns fetch spans off, and the fetch-duration and cancellation-latency measurements.
/// </summary>
public sealed class FetchTelemetrySpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly ActivitySource Caller = SpanRecorder.Caller;

    /// <summary>Runs <paramref name="send"/> under a caller activity whose trace the recorder keeps.</summary>
    private static SpanRecorder InTrace(out Activity caller, string name = "caller")
    {
        ActivityTraceId? trace = null;
        var spans = new SpanRecorder(() => trace);
        caller = Caller.StartActivity(name)!;
        trace = caller.TraceId;
        return spans;
    }

    private static async Task<string> Hang(CancellationToken token)
    {
        await Task.Delay(Timeout.Infinite, token);
        return "never";
    }

    [Fact]
    public async Task Each_fetch_must_have_a_span_under_the_request_span_and_be_the_current_activity_inside_its_fetch()
    {
        string? currentInside = null;
        ActivitySpanId insideSpan = default;
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int _, CancellationToken _) =>
            {
                currentInside = Activity.Current?.OperationName;
                insideSpan = Activity.Current?.SpanId ?? default;
                return Task.FromResult("Alice");
            })
            .Fetch("orders", Fetches.After<int, string>(Ms(20), "5"))
            .Build()), "spans-dashboard");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("Alice | 5", await aggregator.AggregateAsync<int, string>(1));

        var request = await spans.AwaitSingleAsync(this, "aggregate spans-dashboard", Generous);
        var profile = await spans.AwaitSingleAsync(this, "fetch profile", Generous);
        var orders = await spans.AwaitSingleAsync(this, "fetch orders", Generous);
        Assert.Equal(caller.SpanId, request.ParentSpanId);
        Assert.All(new[] { profile, orders }, fetch =>
        {
            Assert.Equal(request.SpanId, fetch.ParentSpanId);
            Assert.Equal(("success", ActivityStatusCode.Unset), (fetch.GetTagItem("aggregation.fetch.outcome"), fetch.Status));
            Assert.Equal(request.GetTagItem("aggregation.request.id"), fetch.GetTagItem("aggregation.request.id"));
        });
        Assert.Equal(("profile", 1), (profile.GetTagItem("aggregation.fetcher"), profile.GetTagItem("aggregation.fetch.attempt")));
        Assert.Equal(("fetch profile", profile.SpanId), (currentInside, insideSpan));
        Assert.True(orders.Duration >= Ms(15), $"the orders span lasted {orders.Duration.TotalMilliseconds} ms, less than its fetch");
    }

    [Fact]
    public async Task An_HttpClient_call_inside_a_fetch_must_be_the_fetch_spans_child()
    {
        using var server = new LoopbackServer("Alice");
        using var http = new HttpClient();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int id, CancellationToken ct) => http.GetStringAsync($"{server.Url}profile/{id}", ct))
            .Build()), "http-dashboard");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("Alice", await aggregator.AggregateAsync<int, string>(1));

        var fetch = await spans.AwaitSingleAsync(this, "fetch profile", Generous);
        var call = await spans.AwaitSingleAsync(this, "System.Net.Http.HttpRequestOut", Generous);
        Assert.Equal(fetch.SpanId, call.ParentSpanId);
        Assert.Equal(fetch.TraceId, call.TraceId);
    }

    [Fact]
    public async Task Only_the_decisive_failure_must_be_Error_and_each_cancelled_sibling_must_name_it_and_link_to_its_span()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int _, CancellationToken ct) => Hang(ct))
            .Fetch("recommendations", (int _, CancellationToken ct) => Hang(ct))
            .Fetch("orders", Fetches.FailAfter<int, string>(Ms(30), new InvalidOperationException("orders down")))
            .Build()), "failing-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        var orders = await spans.AwaitSingleAsync(this, "fetch orders", Generous);
        Assert.Equal(ActivityStatusCode.Error, orders.Status);
        Assert.Equal(("failure", typeof(InvalidOperationException).FullName), (orders.GetTagItem("aggregation.fetch.outcome"), orders.GetTagItem("error.type")));
        foreach (var name in new[] { "fetch profile", "fetch recommendations" })
        {
            var sibling = await spans.AwaitSingleAsync(this, name, Generous);
            Assert.Equal(ActivityStatusCode.Unset, sibling.Status);
            Assert.Equal(("cancelled", "sibling_failed", "orders"),
                (sibling.GetTagItem("aggregation.fetch.outcome"), sibling.GetTagItem("aggregation.cancellation.cause"), sibling.GetTagItem("aggregation.cancellation.fetcher")));
            Assert.Equal(orders.SpanId, Assert.Single(sibling.Links).Context.SpanId);
            // When its token fired, as an event: after it started, no later than it ended, and not before orders failed.
            var fired = Assert.Single(sibling.Events, e => e.Name == "aggregation.token_fired").Timestamp;
            Assert.InRange(fired, sibling.StartTimeUtc, sibling.StartTimeUtc + sibling.Duration + Ms(1));
            Assert.True(fired >= orders.StartTimeUtc + orders.Duration - Ms(1), $"fired at {fired:O}, orders failed at {orders.StartTimeUtc + orders.Duration:O}");
        }
        Assert.Equal(ActivityStatusCode.Error, (await spans.AwaitSingleAsync(this, "aggregate failing-spans", Generous)).Status);
    }

    [Fact]
    public async Task At_the_deadline_a_running_fetchs_span_must_end_with_the_deadline_as_its_cause()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int _, CancellationToken ct) => Hang(ct))
            .WithTimeout(Ms(200))
            .Build()), "deadline-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        var profile = await spans.AwaitSingleAsync(this, "fetch profile", Generous);
        Assert.Equal(("cancelled", "deadline_exceeded"), (profile.GetTagItem("aggregation.fetch.outcome"), profile.GetTagItem("aggregation.cancellation.cause")));
        Assert.Empty(profile.Links);
        Assert.Equal("deadline_exceeded", (await spans.AwaitSingleAsync(this, "aggregate deadline-spans", Generous)).GetTagItem("error.type"));
    }

    [Fact]
    public async Task An_abandoned_fetchs_span_must_end_when_it_is_judged_abandoned_and_its_late_completion_must_be_recorded()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "late"))
            .Fetch("orders", Fetches.FailAfter<int, string>(Ms(20), new InvalidOperationException("orders down")))
            .Build()), "abandoned-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        // The grace period is 100 ms in the specs' configuration: the span ends then, though the fetch still runs.
        var stubborn = await spans.AwaitSingleAsync(this, "fetch stubborn", Generous);
        Assert.Equal(("abandoned", "sibling_failed"), (stubborn.GetTagItem("aggregation.fetch.outcome"), stubborn.GetTagItem("aggregation.cancellation.cause")));
        Assert.Empty(spans.Named("late completion stubborn"));
        // Its token fired when orders failed, a grace period before the span ended.
        var fired = Assert.Single(stubborn.Events, e => e.Name == "aggregation.token_fired").Timestamp;
        Assert.True(stubborn.StartTimeUtc + stubborn.Duration - fired >= Ms(50), $"fired {(stubborn.StartTimeUtc + stubborn.Duration - fired).TotalMilliseconds} ms before the end");

        release.SetResult();
        var late = await spans.AwaitSingleAsync(this, "late completion stubborn", Generous);
        Assert.Equal(stubborn.TraceId, late.TraceId);
        Assert.Equal(stubborn.ParentSpanId, late.ParentSpanId);
        Assert.Equal(stubborn.SpanId, Assert.Single(late.Links).Context.SpanId);
        Assert.True(late.StartTimeUtc >= stubborn.StartTimeUtc + stubborn.Duration - Ms(1), "the late completion starts where the abandoned span ended");
        // Released after the 100 ms grace timer fired, which may be one scheduler tick early.
        var tick = Sys.Settings.Config.GetTimeSpan("akka.scheduler.tick-duration", TimeSpan.FromMilliseconds(10)).TotalMilliseconds;
        Assert.True((double)late.GetTagItem("aggregation.fetch.late_ms")! >= 100 - tick, $"late by {late.GetTagItem("aggregation.fetch.late_ms")} ms");
        await AggregationAssert.NoLeaksAsync(aggregator, Generous);
    }

    [Fact]
    public async Task Each_attempt_of_a_retried_fetch_must_have_its_own_span_and_only_the_last_failure_must_be_Error()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("flaky", context => Task.FromException<string>(new TimeoutException($"attempt {context.Attempt}")),
                new RetryPolicy(3) { InitialBackoff = Ms(10), Jitter = 0 })
            .Build()), "retried-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1));

        var attempts = (await spans.AwaitAsync(this, "fetch flaky", 3, Generous)).OrderBy(s => (int)s.GetTagItem("aggregation.fetch.attempt")!).ToArray();
        Assert.Equal([1, 2, 3], attempts.Select(s => (int)s.GetTagItem("aggregation.fetch.attempt")!));
        Assert.Equal(["retried", "retried", "failure"], attempts.Select(s => (string)s.GetTagItem("aggregation.fetch.outcome")!));
        Assert.Equal([ActivityStatusCode.Unset, ActivityStatusCode.Unset, ActivityStatusCode.Error], attempts.Select(s => s.Status));
    }

    [Fact]
    public async Task A_losing_hedged_attempts_span_must_name_the_winner_and_link_to_its_span()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("search", context => context.Attempt == 1 ? Hang(context.CancellationToken) : Task.FromResult("hedge"),
                new FetchOptions { Hedging = HedgingPolicy.After(Ms(50)) })
            .Build()), "hedged-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("hedge", await aggregator.AggregateAsync<int, string>(1));

        var attempts = await spans.AwaitAsync(this, "fetch search", 2, Generous);
        var winner = Assert.Single(attempts, s => (int)s.GetTagItem("aggregation.fetch.attempt")! == 2);
        var loser = Assert.Single(attempts, s => (int)s.GetTagItem("aggregation.fetch.attempt")! == 1);
        Assert.Equal("success", winner.GetTagItem("aggregation.fetch.outcome"));
        Assert.Equal(("lost", "attempt_lost", 2), (loser.GetTagItem("aggregation.fetch.outcome"), loser.GetTagItem("aggregation.cancellation.cause"),
            loser.GetTagItem("aggregation.fetch.attempt.winner")));
        Assert.Equal(winner.SpanId, Assert.Single(loser.Links).Context.SpanId);
    }

    [Fact]
    public async Task A_nested_aggregations_request_span_must_be_the_child_of_the_outer_fetch_span_two_levels_down()
    {
        var innermost = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("street", (int _, CancellationToken _) => Task.FromResult("Main St"))
            .Build()), "innermost");
        var inner = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Nested<int, string>("address", innermost, id => id)
            .Build()), "inner");
        var outer = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Nested<int, string>("customer", inner, id => id)
            .Build()), "outer");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("Main St", await outer.AggregateAsync<int, string>(1));

        var outerRequest = await spans.AwaitSingleAsync(this, "aggregate outer", Generous);
        var customer = await spans.AwaitSingleAsync(this, "fetch customer", Generous);
        var innerRequest = await spans.AwaitSingleAsync(this, "aggregate inner", Generous);
        var address = await spans.AwaitSingleAsync(this, "fetch address", Generous);
        var innermostRequest = await spans.AwaitSingleAsync(this, "aggregate innermost", Generous);
        var street = await spans.AwaitSingleAsync(this, "fetch street", Generous);
        Assert.Equal(
            [caller.SpanId, outerRequest.SpanId, customer.SpanId, innerRequest.SpanId, address.SpanId, innermostRequest.SpanId],
            new[] { outerRequest, customer, innerRequest, address, innermostRequest, street }.Select(s => s.ParentSpanId));
    }

    [Fact]
    public async Task An_ask_fetchers_span_must_cover_the_conversation_and_name_its_target()
    {
        var profiles = Sys.ActorOf(Props.Create(() => new EchoActor()), "profiles");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<string, string>("profile", profiles, id => $"profile {id}", reply => reply)
            .Build()), "ask-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("profile 1", await aggregator.AggregateAsync<int, string>(1));

        var fetch = await spans.AwaitSingleAsync(this, "fetch profile", Generous);
        Assert.Equal(profiles.Path.ToString(), fetch.GetTagItem("aggregation.ask.target"));
        Assert.Equal("success", fetch.GetTagItem("aggregation.fetch.outcome"));
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => Receive<string>(text => Sender.Tell(text));
    }

    [Fact]
    public async Task With_fetch_spans_off_only_the_request_span_must_be_made()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
                .Fetch("profile", Fetches.After<int, string>(Ms(5), "Alice"))
                .Build(),
            AggregationSettings.Create(Sys).WithFetchSpans(false)), "no-fetch-spans");

        using var spans = InTrace(out var caller);
        using (caller)
            Assert.Equal("Alice", await aggregator.AggregateAsync<int, string>(1));

        await spans.AwaitSingleAsync(this, "aggregate no-fetch-spans", Generous);
        await ExpectNoMsgAsync(Ms(200));
        Assert.Empty(spans.Named("fetch profile"));
        Assert.False(AggregationSettings.Create(Sys.Settings.Config.GetConfig("actors.aggregation")).FetchSpans is false,
            "fetch spans are on by default");
    }

    [Fact]
    public async Task Without_a_listener_no_activity_must_be_current_inside_a_fetch()
    {
        Activity? inside = null;
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int _, CancellationToken _) =>
            {
                inside = Activity.Current;
                ran.TrySetResult();
                return Task.FromResult("Alice");
            })
            .Build()), "unlistened");

        aggregator.Tell(new Aggregate<int>(1));

        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        await ran.Task.WaitAsync(Generous);
        Assert.Null(inside);
    }

    [Fact]
    public async Task The_fetch_duration_must_be_measured_per_fetch_with_its_outcome_and_cause()
    {
        using var durations = new MeasurementRecorder("aggregation.fetch.duration", "measured-fetches");
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (int _, CancellationToken ct) => Hang(ct))
            .Fetch("orders", Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("orders down")))
            .Build()), "measured-fetches");

        aggregator.Tell(new Aggregate<int>(1));
        await ExpectMsgAsync<AggregateFailed>(Generous);

        await AwaitConditionAsync(() => Task.FromResult(durations.Measured.Count >= 2), Generous);
        var byFetcher = durations.Measured.ToDictionary(m => (string)m.Tags["aggregation.fetcher"]!);
        Assert.Equal(("failure", typeof(InvalidOperationException).FullName), (byFetcher["orders"].Tags["aggregation.fetch.outcome"], byFetcher["orders"].Tags["error.type"]));
        Assert.Equal(("cancelled", "sibling_failed"), (byFetcher["profile"].Tags["aggregation.fetch.outcome"], byFetcher["profile"].Tags["aggregation.cancellation.cause"]));
        Assert.InRange(byFetcher["orders"].Value, 0.04, 10); // seconds
    }

    [Fact]
    public async Task The_cancellation_latency_must_be_recorded_for_a_cooperative_and_for_a_stubborn_fetch()
    {
        using var latencies = new MeasurementRecorder("aggregation.fetch.cancellation.duration", "cancellation-latency");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stubbornStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("cooperative", (int _, CancellationToken ct) => Hang(ct))
            .Fetch("stubborn", async (int _, CancellationToken _) =>
            {
                stubbornStarted.TrySetResult();
                await release.Task;
                return "late";
            })
            .WithTimeout(Ms(300))
            .Build()), "cancellation-latency");

        aggregator.Tell(new Aggregate<int>(1));
        await ExpectMsgAsync<AggregateFailed>(Generous);
        await stubbornStarted.Task.WaitAsync(Generous);
        await ExpectNoMsgAsync(Ms(400)); // the stubborn fetch keeps running this long after its token fired
        release.SetResult();

        await AwaitConditionAsync(() => Task.FromResult(latencies.Measured.Count >= 2), Generous);
        var byFetcher = latencies.Measured.ToDictionary(m => (string)m.Tags["aggregation.fetcher"]!);
        Output.WriteLine($"cooperative {byFetcher["cooperative"].Value * 1000:0.00} ms, stubborn {byFetcher["stubborn"].Value * 1000:0.0} ms");
        Assert.True(byFetcher["stubborn"].Value >= 0.35, $"the stubborn fetch stopped {byFetcher["stubborn"].Value} s after its token fired");
        Assert.True(byFetcher["cooperative"].Value < byFetcher["stubborn"].Value);
    }

    /// <summary>A real HTTP server on a loopback port (HttpListener): answers every GET with a fixed text.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();

        public LoopbackServer(string body)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception)
                    {
                        return;
                    }
                    var bytes = System.Text.Encoding.UTF8.GetBytes(body);
                    context.Response.ContentType = "text/plain";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public void Dispose() => _listener.Close();
    }
}
