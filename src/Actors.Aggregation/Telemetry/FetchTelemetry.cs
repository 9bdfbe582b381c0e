using System.Diagnostics;

namespace Actors.Aggregation;

/// <summary>
/// The spans and measurements of fetches: <c>fetch {fetcher}</c> spans under their request's span (one per attempt), and
/// the fetch duration, cancellation latency and abandoned-fetch instruments. Every method is a no-op while nobody listens:
/// a span is started only under a request span that a listener sampled, and a measurement only while its instrument is
/// enabled, so the path with no listener allocates nothing.
/// </summary>
internal static class FetchTelemetry
{
    /// <summary>
    /// Starts the span of attempt <paramref name="attempt"/> of <paramref name="fetcher"/> as a child of the request's span,
    /// or returns null (no request span, fetch spans off, or nobody listens). Sets <see cref="Activity.Current"/> to the new
    /// span: the caller runs the fetch under it and then puts back what was current.
    /// </summary>
    public static Activity? Start(Activity? requestSpan, AggregatorRuntime runtime, string fetcher, string requestId, int attempt)
    {
        if (requestSpan is null || !runtime.Settings.FetchSpans || !Telemetry.Source.HasListeners()) return null;
        var span = Telemetry.Source.StartActivity($"fetch {fetcher}", ActivityKind.Internal, requestSpan.Context);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(AggregationTelemetry.Attributes.Fetcher, fetcher);
            span.SetTag(AggregationTelemetry.Attributes.RequestId, requestId);
            span.SetTag(AggregationTelemetry.Attributes.Attempt, attempt);
        }
        return span;
    }

    /// <summary>The fetch succeeded.</summary>
    public static void Succeeded(Activity? span)
    {
        if (span is null) return;
        span.SetTag(AggregationTelemetry.Attributes.Outcome, "success");
        Telemetry.Stop(span);
    }

    /// <summary>
    /// The fetch failed. <paramref name="decisive"/>: its failure is the part's (the first cause, under FailFast the
    /// request's), and only then is the span's status <c>Error</c>; a retried attempt, or a hedged attempt that another may
    /// still replace, is not.
    /// </summary>
    public static void Failed(Activity? span, Exception error, bool decisive, string outcome = "failure")
    {
        if (span is null) return;
        MarkFailed(span, error, decisive, outcome);
        Telemetry.Stop(span);
    }

    /// <summary>Tags a failure on a span that stays open (a part whose own budget ran out while its fetch still runs).</summary>
    public static void MarkFailed(Activity span, Exception error, bool decisive, string outcome)
    {
        span.SetTag(AggregationTelemetry.Attributes.Outcome, outcome);
        span.SetTag(AggregationTelemetry.Attributes.ErrorType, error.GetType().FullName);
        if (decisive) span.SetStatus(ActivityStatusCode.Error, Errors.Describe(error));
    }

    /// <summary>
    /// The fetch ended after its token fired (<paramref name="outcome"/>: <c>cancelled</c>, <c>timed_out</c>, <c>lost</c>, or
    /// <c>abandoned</c> when judged so). The cause's kind and the fetcher that caused it are attributes; a sibling's failure
    /// is also a link to that sibling's span (<paramref name="cause"/>d by <paramref name="linkTo"/>). The moment the token
    /// fired (<paramref name="firedTimestamp"/>, a Stopwatch timestamp; 0 if unknown) is an event on the span, so a reader
    /// sees both when the fetch was told to stop and when it did.
    /// </summary>
    public static void Cancelled(Activity? span, CancellationCause? cause, ActivityContext linkTo, long firedTimestamp,
        string outcome = "cancelled", TimeSpan? late = null)
    {
        if (span is null) return;
        span.SetTag(AggregationTelemetry.Attributes.Outcome, outcome);
        if (firedTimestamp != 0)
            span.AddEvent(new ActivityEvent(AggregationTelemetry.Attributes.TokenFiredEvent, DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(firedTimestamp)));
        if (cause is not null)
        {
            span.SetTag(AggregationTelemetry.Attributes.CancellationCause, CauseName(cause.Kind));
            if (cause.Fetcher is { } by) span.SetTag(AggregationTelemetry.Attributes.CancellationFetcher, by);
            if (cause.Attempt is { } winner) span.SetTag(AggregationTelemetry.Attributes.Attempt + ".winner", winner);
        }
        if (linkTo != default) span.AddLink(new ActivityLink(linkTo));
        if (late is { } ms) span.SetTag(AggregationTelemetry.Attributes.LateMs, Math.Round(ms.TotalMilliseconds, 1));
        Telemetry.Stop(span);
    }

    /// <summary>
    /// An abandoned fetch finally ended, after its span had ended when it was judged abandoned: a span of its own,
    /// <c>late completion {fetcher}</c>, from that moment to now, in the same trace and linked to it, says how late.
    /// </summary>
    public static void LateCompletion(Activity? abandoned, string fetcher, TimeSpan late, bool failed)
    {
        if (abandoned is null || !Telemetry.Source.HasListeners()) return;
        var parent = new ActivityContext(abandoned.TraceId, abandoned.ParentSpanId, abandoned.ActivityTraceFlags);
        var previous = Activity.Current;
        var span = Telemetry.Source.StartActivity($"late completion {fetcher}", ActivityKind.Internal, parent,
            links: [new ActivityLink(abandoned.Context)], startTime: abandoned.StartTimeUtc + abandoned.Duration);
        Activity.Current = previous;
        if (span is null) return;
        span.SetTag(AggregationTelemetry.Attributes.Fetcher, fetcher);
        span.SetTag(AggregationTelemetry.Attributes.Outcome, failed ? "failure" : "success");
        span.SetTag(AggregationTelemetry.Attributes.LateMs, Math.Round(late.TotalMilliseconds, 1));
        Telemetry.Stop(span);
    }

    /// <summary>Records a fetch's duration (seconds) with its outcome, and the cause when its token had fired.</summary>
    public static void RecordDuration(AggregatorRuntime runtime, string fetcher, TimeSpan duration, string outcome, CancellationCause? cause, Exception? error)
    {
        if (!Telemetry.FetchDuration.Enabled) return;
        var tags = new TagList { { AggregationTelemetry.Attributes.Aggregator, runtime.Name }, { AggregationTelemetry.Attributes.Fetcher, fetcher }, { AggregationTelemetry.Attributes.Outcome, outcome } };
        if (cause is not null) tags.Add(AggregationTelemetry.Attributes.CancellationCause, CauseName(cause.Kind));
        if (error is not null && outcome == "failure") tags.Add(AggregationTelemetry.Attributes.ErrorType, error.GetType().FullName);
        Telemetry.FetchDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Records how long a fetch took to end after its token fired (<paramref name="firedTimestamp"/>, a Stopwatch timestamp).</summary>
    public static void RecordCancellation(AggregatorRuntime runtime, string fetcher, long firedTimestamp)
    {
        if (firedTimestamp == 0 || !Telemetry.CancellationDuration.Enabled) return;
        Telemetry.CancellationDuration.Record(Stopwatch.GetElapsedTime(firedTimestamp).TotalSeconds,
            new TagList { { AggregationTelemetry.Attributes.Aggregator, runtime.Name }, { AggregationTelemetry.Attributes.Fetcher, fetcher } });
    }

    /// <summary>Counts an abandoned fetch.</summary>
    public static void RecordAbandoned(AggregatorRuntime runtime, string fetcher)
    {
        if (!Telemetry.AbandonedFetches.Enabled) return;
        Telemetry.AbandonedFetches.Add(1, new TagList { { AggregationTelemetry.Attributes.Aggregator, runtime.Name }, { AggregationTelemetry.Attributes.Fetcher, fetcher } });
    }

    /// <summary>A cause kind as an attribute value: low-cardinality snake case.</summary>
    public static string CauseName(CancellationCauseKind kind) => kind switch
    {
        CancellationCauseKind.SiblingFailed => "sibling_failed",
        CancellationCauseKind.DeadlineExceeded => "deadline_exceeded",
        CancellationCauseKind.CallerCancelled => "caller_cancelled",
        CancellationCauseKind.RequesterTerminated => "requester_terminated",
        CancellationCauseKind.RequestCompleted => "request_completed",
        CancellationCauseKind.AggregatorStopped => "aggregator_stopped",
        CancellationCauseKind.Shutdown => "shutdown",
        CancellationCauseKind.FetchFinished => "fetch_finished",
        CancellationCauseKind.PartTimedOut => "part_timed_out",
        CancellationCauseKind.AttemptLost => "attempt_lost",
        _ => "_OTHER",
    };
}
