using System.Diagnostics;
using Actors.Aggregation;
using Actors.Dashboard.Requests;
using AngleSharp.Html.Parser;
using Xunit;

namespace Actors.Dashboard.Tests;

/// <summary>
/// The recorder and both waterfalls on spans made here with the library's source name and exact times: an abandoned
/// fetch whose late completion stops after the request span, eviction of the oldest trace, HTML encoding.
/// </summary>
public sealed class RequestRecorderSpecs : IDisposable
{
    private static readonly DateTime T0 = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private readonly ActivitySource _source = new(AggregationTelemetry.ActivitySourceName);

    public void Dispose() => _source.Dispose();

    [Fact]
    public void A_late_completion_stopping_after_the_request_must_attach_to_its_abandoned_fetch_and_run_past_the_reply()
    {
        using var recorder = new RequestRecorder(capacity: 2);

        var (request, abandoned) = AbandonedRequest("<b>1</b> & 'two'");
        var settled = Assert.Single(recorder.Recent());
        Assert.True(settled.IsSettled);
        Late(request, abandoned, startMs: 300, endMs: 800);

        var trace = Assert.Single(recorder.Recent());
        var waterfall = Assert.Single(Waterfall.Of(trace));
        Assert.Equal(120, waterfall.ReplyMs, 3);
        Assert.Equal(800, waterfall.EndMs, 3);
        var slow = Assert.Single(waterfall.Fetches, f => f.Fetcher == "slow");
        Assert.True(slow.IsAbandoned);
        Assert.Equal(100, slow.TokenFiredMs!.Value, 3);
        Assert.Equal(800, slow.StoppedMs!.Value, 3);
        Assert.Equal(700, slow.Late!.LateMs!.Value, 3);

        var document = new HtmlParser().ParseDocument(RequestsPage.Render(recorder.Recent(), recorder.Capacity));
        var section = Assert.Single(document.QuerySelectorAll("section[data-request-id]"));
        Assert.Equal("<b>1</b> & 'two'", section.GetAttribute("data-key"));
        Assert.Empty(document.QuerySelectorAll("b, script"));
        var bar = document.QuerySelector(".bar.fetch[data-fetcher=slow]")!;
        Assert.Equal("abandoned", bar.GetAttribute("data-outcome"));
        Assert.NotNull(bar.QuerySelector(".abandoned"));
        Assert.NotNull(bar.QuerySelector(".token-fired"));
        var late = document.QuerySelector(".bar.late[data-fetcher=slow]")!;
        Assert.Equal("left:37.5%;width:62.5%", late.GetAttribute("style")); // 300 to 800 of 800 ms: past the reply at 120
        Assert.Contains("failed", document.QuerySelector(".bar.fetch[data-fetcher=quick]")!.ClassList);

        var text = string.Join('\n', TextWaterfall.Render(waterfall));
        Assert.Contains("x", Line(text, "quick"), StringComparison.Ordinal);
        Assert.Matches(@"^slow +#+\|~+\++ +", Line(text, "slow"));
        Assert.Contains("late by 700.0 ms", Line(text, "slow"), StringComparison.Ordinal);
    }

    [Fact]
    public void It_must_keep_the_most_recent_traces_and_drop_spans_of_one_it_no_longer_keeps()
    {
        using var recorder = new RequestRecorder(capacity: 2);

        var (first, abandoned) = AbandonedRequest("1");
        AbandonedRequest("2");
        AbandonedRequest("3");
        Late(first, abandoned, startMs: 300, endMs: 900);

        var kept = recorder.Recent();
        Assert.Equal(["3", "2"], kept.Select(t => Waterfall.Of(t).Single().Key));
        Assert.Equal([3L, 2L], kept.Select(t => t.Number));
        Assert.All(kept, t => Assert.DoesNotContain(t.Spans, s => s.IsLateCompletion));
    }

    /// <summary>
    /// A request (0 to 120 ms) whose <c>quick</c> fetch fails at 100 ms, the decisive failure, and whose <c>slow</c> fetch
    /// ignores its token (fired at 100 ms) and is judged abandoned at 300 ms. Returns the request's and the abandoned span.
    /// </summary>
    private (Activity Request, Activity Abandoned) AbandonedRequest(string key)
    {
        Activity.Current = null;
        var request = _source.StartActivity("aggregate test", ActivityKind.Internal, default(ActivityContext), startTime: T0)!;
        request.SetTag("aggregation.aggregator", "test").SetTag("aggregation.request.id", $"r{key}").SetTag("aggregation.key", key);
        var quick = Fetch(request, "quick");
        var slow = Fetch(request, "slow");
        quick.SetTag("aggregation.fetch.outcome", "failure").SetTag("error.type", "System.InvalidOperationException")
            .SetStatus(ActivityStatusCode.Error, "boom");
        Stop(quick, 100);
        request.SetTag("error.type", "fetcher_failed").SetStatus(ActivityStatusCode.Error, "fetcher 'quick' failed");
        Stop(request, 120);
        slow.SetTag("aggregation.fetch.outcome", "abandoned").SetTag("aggregation.cancellation.cause", "sibling_failed")
            .SetTag("aggregation.cancellation.fetcher", "quick")
            .AddEvent(new ActivityEvent("aggregation.token_fired", T0.AddMilliseconds(100)));
        Stop(slow, 300);
        Activity.Current = null;
        return (request, slow);
    }

    private Activity Fetch(Activity request, string fetcher)
    {
        var fetch = _source.StartActivity($"fetch {fetcher}", ActivityKind.Internal, request.Context, startTime: T0)!;
        return fetch.SetTag("aggregation.fetcher", fetcher).SetTag("aggregation.fetch.attempt", 1);
    }

    private void Late(Activity request, Activity abandoned, double startMs, double endMs)
    {
        var late = _source.StartActivity("late completion slow", ActivityKind.Internal, request.Context,
            links: [new ActivityLink(abandoned.Context)], startTime: T0.AddMilliseconds(startMs))!;
        late.SetTag("aggregation.fetcher", "slow").SetTag("aggregation.fetch.outcome", "success")
            .SetTag("aggregation.fetch.late_ms", endMs - 100);
        Stop(late, endMs);
        Activity.Current = null;
    }

    private static void Stop(Activity span, double atMs)
    {
        span.SetEndTime(T0.AddMilliseconds(atMs));
        span.Stop();
    }

    private static string Line(string text, string label) => text.Split('\n').Single(l => l.StartsWith(label + " ", StringComparison.Ordinal));
}
