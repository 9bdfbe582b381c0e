using System.Diagnostics;
using System.Globalization;
using Actors.Aggregation;

namespace Actors.Dashboard.Requests;

/// <summary>
/// One request laid out on a time axis that starts at its arrival (0 ms): its reply, and a bar per fetch with where its
/// token fired, where it stopped and any abandoned tail and late completion. What the page and the text waterfall draw.
/// </summary>
/// <param name="TraceId">The request's trace.</param>
/// <param name="StartUtc">When the request arrived at the aggregator.</param>
/// <param name="Aggregator">The aggregator's name.</param>
/// <param name="RequestId">The request's id (<c>aggregation.request.id</c>).</param>
/// <param name="Key">The request's key (<c>aggregation.key</c>).</param>
/// <param name="Outcome"><c>success</c>, or the failure's <c>error.type</c> (<c>fetcher_failed</c>, <c>deadline_exceeded</c>, ...).</param>
/// <param name="Failed">The request span's status is <see cref="ActivityStatusCode.Error"/>.</param>
/// <param name="StatusDescription">The failure's description, if any.</param>
/// <param name="ReplyMs">When the reply went out.</param>
/// <param name="EndMs">When the last span of the request ended: the reply, or a fetch that stopped (or completed) after it.</param>
/// <param name="Fetches">One bar per fetch attempt, in the order they started.</param>
public sealed record Waterfall(
    ActivityTraceId TraceId,
    DateTime StartUtc,
    string Aggregator,
    string? RequestId,
    string? Key,
    string Outcome,
    bool Failed,
    string? StatusDescription,
    double ReplyMs,
    double EndMs,
    IReadOnlyList<WaterfallBar> Fetches)
{
    /// <summary>The outcome of a request that did not fail.</summary>
    public const string Success = "success";

    /// <summary>The waterfalls of <paramref name="trace"/>: one per request span in it (usually one), earliest first.</summary>
    public static IReadOnlyList<Waterfall> Of(RequestTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return trace.Requests.Select(request => Of(trace.TraceId, request, trace.Spans)).ToArray();
    }

    private static Waterfall Of(ActivityTraceId traceId, RecordedSpan request, IReadOnlyList<RecordedSpan> spans)
    {
        var origin = request.StartUtc;
        double Ms(DateTime t) => (t - origin).TotalMilliseconds;
        var children = spans.Where(s => s.ParentSpanId == request.SpanId).ToArray();

        var bars = new List<(RecordedSpan Span, WaterfallBar Bar)>();
        foreach (var fetch in children.Where(s => s.IsFetch).OrderBy(s => s.StartUtc))
        {
            double start = Ms(fetch.StartUtc), end = Ms(fetch.EndUtc);
            double? fired = fetch.Events.FirstOrDefault(e => e.Name == AggregationTelemetry.Attributes.TokenFiredEvent) is { } e
                ? Math.Clamp(Ms(e.TimeUtc), start, end)
                : null;
            bars.Add((fetch, new WaterfallBar(
                FetcherOf(fetch, RecordedSpan.FetchPrefix),
                int.TryParse(fetch.Tag(AggregationTelemetry.Attributes.Attempt), NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempt) ? attempt : 1,
                fetch.Tag(AggregationTelemetry.Attributes.Outcome) ?? "unknown",
                start, end, fired,
                fetch.Status == ActivityStatusCode.Error,
                fetch.Tag(AggregationTelemetry.Attributes.ErrorType),
                fetch.Tag(AggregationTelemetry.Attributes.CancellationCause),
                fetch.Tag(AggregationTelemetry.Attributes.CancellationFetcher),
                null)));
        }
        // A late completion goes on the row of the abandoned fetch it links to (else of the last abandoned one of its fetcher).
        foreach (var late in children.Where(s => s.IsLateCompletion))
        {
            var fetcher = FetcherOf(late, RecordedSpan.LateCompletionPrefix);
            var row = bars.FindIndex(b => late.Links.Contains(b.Span.SpanId));
            if (row < 0) row = bars.FindLastIndex(b => b.Bar.Fetcher == fetcher && b.Bar.IsAbandoned && b.Bar.Late is null);
            if (row < 0) continue;
            var lateBar = new WaterfallLate(Ms(late.StartUtc), Ms(late.EndUtc), late.Tag(AggregationTelemetry.Attributes.Outcome) ?? "unknown",
                double.TryParse(late.Tag(AggregationTelemetry.Attributes.LateMs), NumberStyles.Float, CultureInfo.InvariantCulture, out var lateMs) ? lateMs : null);
            bars[row] = (bars[row].Span, bars[row].Bar with { Late = lateBar });
        }

        var reply = request.Duration.TotalMilliseconds;
        var endMs = bars.Select(b => b.Bar.Late?.EndMs ?? b.Bar.EndMs).Append(reply).Max();
        return new Waterfall(traceId, origin, request.Tag(AggregationTelemetry.Attributes.Aggregator) ?? request.Name[RecordedSpan.RequestPrefix.Length..],
            request.Tag(AggregationTelemetry.Attributes.RequestId), request.Tag(AggregationTelemetry.Attributes.Key),
            request.Tag(AggregationTelemetry.Attributes.ErrorType) ?? (request.Status == ActivityStatusCode.Error ? "error" : Success),
            request.Status == ActivityStatusCode.Error, request.StatusDescription, reply, endMs, bars.Select(b => b.Bar).ToArray());
    }

    private static string FetcherOf(RecordedSpan span, string prefix) => span.Tag(AggregationTelemetry.Attributes.Fetcher) ?? span.Name[prefix.Length..];

    /// <summary>Milliseconds as the page and the demo show them: one decimal, invariant culture.</summary>
    public static string Ms(double milliseconds) => milliseconds.ToString("0.0", CultureInfo.InvariantCulture);
}

/// <summary>One fetch attempt on a <see cref="Waterfall"/>, its times in milliseconds from the request's arrival.</summary>
/// <param name="Fetcher">The fetcher's name.</param>
/// <param name="Attempt">The attempt's number, from 1.</param>
/// <param name="Outcome"><c>aggregation.fetch.outcome</c>: success, failure, cancelled, abandoned, timed_out, fell_back, lost or retried.</param>
/// <param name="StartMs">When it started.</param>
/// <param name="EndMs">When its span ended: when it stopped, or, abandoned, when it was judged so.</param>
/// <param name="TokenFiredMs">When its token fired, if it did (<c>aggregation.token_fired</c>).</param>
/// <param name="Failed">Its status is <see cref="ActivityStatusCode.Error"/>: the decisive failure.</param>
/// <param name="ErrorType">Its <c>error.type</c>, if it failed.</param>
/// <param name="Cause">Why its token fired (<c>aggregation.cancellation.cause</c>), e.g. <c>sibling_failed</c>.</param>
/// <param name="CauseFetcher">The sibling whose failure fired it (<c>aggregation.cancellation.fetcher</c>).</param>
/// <param name="Late">Its late completion, if it was abandoned and has ended since.</param>
public sealed record WaterfallBar(
    string Fetcher,
    int Attempt,
    string Outcome,
    double StartMs,
    double EndMs,
    double? TokenFiredMs,
    bool Failed,
    string? ErrorType,
    string? Cause,
    string? CauseFetcher,
    WaterfallLate? Late)
{
    /// <summary>How long its span ran.</summary>
    public double DurationMs => EndMs - StartMs;

    /// <summary>It ignored its token for the grace period and was abandoned.</summary>
    public bool IsAbandoned => Outcome == "abandoned";

    /// <summary>When it really stopped, if known: its span's end, or its late completion's; null while abandoned and still running.</summary>
    public double? StoppedMs => Late?.EndMs ?? (IsAbandoned ? null : EndMs);
}

/// <summary>An abandoned fetch's late completion (<c>late completion {fetcher}</c>), from its abandonment to its end.</summary>
/// <param name="StartMs">When the fetch was judged abandoned.</param>
/// <param name="EndMs">When it finally ended.</param>
/// <param name="Outcome">How it ended: success or failure (discarded either way).</param>
/// <param name="LateMs"><c>aggregation.fetch.late_ms</c>: how long after its token fired it ended.</param>
public sealed record WaterfallLate(double StartMs, double EndMs, string Outcome, double? LateMs);
