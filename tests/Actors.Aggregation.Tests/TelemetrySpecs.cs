using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>
/// Traces and metrics through <see cref="System.Diagnostics"/>: the request span is the child of the caller's activity, on
/// this node or after the wire format; its status follows the reply; the request-duration histogram gets one measurement
/// per request with its <c>error.type</c>. Listeners are process-wide: each spec keeps only its own trace or aggregator.
/// </summary>
public sealed class TelemetrySpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly ActivitySource Caller = SpanRecorder.Caller;

    private static AggregationDefinition<int, string> Dashboard(TimeSpan? profileDelay = null) => Aggregation.For<int>()
        .Fetch("profile", Fetches.After<int, string>(profileDelay ?? Ms(10), "Name: Alice"))
        .Fetch("orders", (int id, CancellationToken _) => id == 0 ? throw new InvalidOperationException("orders down") : Task.FromResult("Order: 5"))
        .Build();

    [Fact]
    public async Task The_request_span_must_be_the_child_of_the_callers_activity_and_succeed()
    {
        ActivityTraceId? trace = null;
        using var spans = new SpanRecorder(() => trace);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard()), "traced-dashboard");

        using (var caller = Caller.StartActivity("GET /dashboard/1"))
        {
            trace = caller!.TraceId;
            Assert.Equal("Name: Alice | Order: 5", await aggregator.AggregateAsync<int, string>(1));
            Assert.Same(caller, Activity.Current); // the caller's context is its own again
        }

        var request = await AwaitSpanAsync(spans, "aggregate traced-dashboard");
        var parent = Assert.Single(spans.Stopped, s => s.OperationName == "GET /dashboard/1");
        Assert.Equal((parent.SpanId, ActivityStatusCode.Unset), (request.ParentSpanId, request.Status));
        Assert.Equal("1", request.GetTagItem("aggregation.key"));
        Assert.NotNull(request.GetTagItem("aggregation.request.id"));
        Assert.Equal("traced-dashboard", request.GetTagItem("aggregation.aggregator"));
    }

    [Fact]
    public async Task A_failed_request_must_end_its_span_with_Error_and_its_error_type()
    {
        ActivityTraceId? trace = null;
        using var spans = new SpanRecorder(() => trace);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard()), "failing-dashboard");

        using (var caller = Caller.StartActivity("GET /dashboard/0"))
        {
            trace = caller!.TraceId;
            aggregator.Tell(new Aggregate<int>(0) { RequestId = "traced-failure" });
        }
        await ExpectMsgAsync<AggregateFailed>(Generous);

        var request = await AwaitSpanAsync(spans, "aggregate failing-dashboard");
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        Assert.Equal("fetcher_failed", request.GetTagItem("error.type"));
        Assert.Contains("orders down", request.StatusDescription);
        Assert.Equal("traced-failure", request.GetTagItem("aggregation.request.id"));
    }

    [Fact]
    public async Task The_trace_context_must_cross_the_wire_format_and_parent_the_request_there()
    {
        ActivityTraceId? trace = null;
        using var spans = new SpanRecorder(() => trace);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard()), "remote-parent-dashboard");
        var serializer = new Actors.Aggregation.Serialization.AggregationSerializer((ExtendedActorSystem)Sys);

        Aggregate<int> sent;
        ActivitySpanId callerSpan;
        using (var caller = Caller.StartActivity("caller on another node"))
        {
            trace = caller!.TraceId;
            callerSpan = caller.SpanId;
            caller.TraceStateString = "vendor=1";
            sent = new Aggregate<int>(1) { RequestId = "from-afar" };
        }
        var received = (Aggregate<int>)serializer.FromBinary(serializer.ToBinary(sent), serializer.Manifest(sent));
        Assert.Equal((sent.TraceParent, "vendor=1"), (received.TraceParent, received.TraceState));

        aggregator.Tell(received);
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        var request = await AwaitSpanAsync(spans, "aggregate remote-parent-dashboard");
        Assert.Equal(callerSpan, request.ParentSpanId);
        Assert.Equal("vendor=1", request.TraceStateString);
    }

    [Fact]
    public async Task Without_a_callers_activity_the_request_must_be_a_root_span_and_the_message_must_carry_no_context()
    {
        Assert.Null(Activity.Current);
        var message = new Aggregate<int>(1);
        Assert.Equal((null, null), (message.TraceParent, message.TraceState));

        using var spans = new SpanRecorder(activity => Equals(activity.GetTagItem("aggregation.request.id"), "rootless"));
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard()), "root-dashboard");

        aggregator.Tell(message with { RequestId = "rootless" });
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);

        var root = await AwaitSpanAsync(spans, "aggregate root-dashboard");
        Assert.Equal(default, root.ParentSpanId);
    }

    [Fact]
    public async Task The_request_duration_must_be_measured_once_per_request_with_its_error_type_rejections_included()
    {
        using var durations = new MeasurementRecorder("aggregation.request.duration", "measured-dashboard");
        using var rejectedSpans = new SpanRecorder(activity => Equals(activity.GetTagItem("aggregation.request.id"), "busy"));
        var settings = AggregationSettings.Create(Sys).WithMaxInFlight(1);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Dashboard(Ms(300)), settings), "measured-dashboard");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "ok" });
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "busy" });
        await ExpectMsgAsync<AggregateFailed>(Generous); // busy: rejected at once
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        aggregator.Tell(new Aggregate<int>(0) { RequestId = "failed" });
        await ExpectMsgAsync<AggregateFailed>(Generous);

        await AwaitConditionAsync(() => Task.FromResult(durations.Measured.Count >= 3), Generous);
        await ExpectNoMsgAsync(Ms(200));
        var measured = durations.Measured;
        Assert.Equal(3, measured.Count);
        Assert.Equal(["fetcher_failed", "none", "rejected"],
            measured.Select(m => m.Tags.GetValueOrDefault("error.type") as string ?? "none").Order());
        Assert.All(measured, m => Assert.Equal("FailFast", m.Tags["aggregation.policy"]));
        var succeeded = Assert.Single(measured, m => !m.Tags.ContainsKey("error.type"));
        Assert.InRange(succeeded.Value, 0.29, 10); // seconds, not milliseconds: the profile fetch takes 300 ms
        var rejected = await AwaitSpanAsync(rejectedSpans, "aggregate measured-dashboard");
        Assert.Equal((ActivityStatusCode.Error, "rejected"), (rejected.Status, rejected.GetTagItem("error.type")));
    }

    [Fact]
    public async Task Each_coalesced_request_must_have_its_own_span_linked_to_the_shared_runs()
    {
        ActivityTraceId? trace = null;
        using var spans = new SpanRecorder(() => trace);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(300), "Name: Alice"))
            .WithCoalescing()
            .Build()), "coalescing-traced");

        using (var caller = Caller.StartActivity("two callers, one trace"))
        {
            trace = caller!.TraceId;
            aggregator.Tell(new Aggregate<int>(1) { RequestId = "first" });
            aggregator.Tell(new Aggregate<int>(1) { RequestId = "second" });
        }
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);

        await AwaitConditionAsync(() => Task.FromResult(spans.Stopped.Count(s => s.OperationName == "aggregate coalescing-traced") == 3), Generous);
        var requests = spans.Stopped.Where(s => s.OperationName == "aggregate coalescing-traced").ToArray();
        var run = Assert.Single(requests, s => s.Links.Count() == 0);
        var joined = requests.Where(s => s != run).ToArray();
        Assert.Equal(["first", "second"], joined.Select(s => (string)s.GetTagItem("aggregation.request.id")!).Order());
        Assert.All(joined, s => Assert.Equal(run.SpanId, Assert.Single(s.Links).Context.SpanId));
    }

    private Task<Activity> AwaitSpanAsync(SpanRecorder spans, string name) => spans.AwaitSingleAsync(this, name, Generous);
}
