using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Actors.Aggregation;

/// <summary>
/// The names under which the library reports traces and metrics, through <see cref="System.Diagnostics"/> alone (no
/// OpenTelemetry dependency): pass them to OpenTelemetry's <c>AddSource</c> and <c>AddMeter</c>. Nothing is created,
/// tagged or allocated for telemetry while nobody listens.
/// </summary>
/// <remarks>
/// Spans: <c>aggregate {aggregator}</c> per request, from its arrival at the aggregator to its reply, the child of the
/// caller's <see cref="Activity.Current"/> when it built the <see cref="Aggregate{TKey}"/> (carried in the message as W3C
/// trace context, so it crosses nodes); under it <c>fetch {fetcher}</c> per fetch (per attempt under a retry or hedging
/// policy), which is <see cref="Activity.Current"/> inside the fetch, so an <c>HttpClient</c> call made there is its child;
/// and <c>late completion {fetcher}</c> when an abandoned fetch finally ends. Metrics: <c>aggregation.request.duration</c>
/// (seconds, by aggregator, policy and <c>error.type</c>, rejections included), <c>aggregation.fetch.duration</c> (by
/// fetcher, outcome and cancellation cause), <c>aggregation.fetch.cancellation.duration</c> (from a token firing to its
/// fetch ending), <c>aggregation.fetches.abandoned</c>, and the observable <c>aggregation.requests.active</c>,
/// <c>aggregation.fetches.active</c> and <c>aggregation.fetches.lingering</c>.
/// </remarks>
public static class AggregationTelemetry
{
    /// <summary>The <see cref="ActivitySource"/>'s name.</summary>
    public const string ActivitySourceName = "Actors.Aggregation";

    /// <summary>The <see cref="Meter"/>'s name.</summary>
    public const string MeterName = "Actors.Aggregation";

    /// <summary>The names of the attributes and events on the library's spans and measurements, for code that reads them.</summary>
    public static class Attributes
    {
        /// <summary>The aggregator's name (the actor's), on every span and measurement.</summary>
        public const string Aggregator = "aggregation.aggregator";

        /// <summary>The request's completion policy.</summary>
        public const string Policy = "aggregation.policy";

        /// <summary>The request's id.</summary>
        public const string RequestId = "aggregation.request.id";

        /// <summary>The request's key.</summary>
        public const string Key = "aggregation.key";

        /// <summary>What failed: a failure's kind on a request, an exception's type on a fetch (OpenTelemetry's <c>error.type</c>).</summary>
        public const string ErrorType = "error.type";

        /// <summary>The fetcher's name, on fetch spans and measurements.</summary>
        public const string Fetcher = "aggregation.fetcher";

        /// <summary>The attempt's number, from 1, under a retry or hedging policy.</summary>
        public const string Attempt = "aggregation.fetch.attempt";

        /// <summary>How a fetch ended: success, failure, fell_back, cancelled, timed_out, lost, retried or abandoned.</summary>
        public const string Outcome = "aggregation.fetch.outcome";

        /// <summary>Why a fetch's token fired: sibling_failed, deadline_exceeded, caller_cancelled, attempt_lost, ...</summary>
        public const string CancellationCause = "aggregation.cancellation.cause";

        /// <summary>The fetcher behind the cancellation: the sibling that failed, or the attempt that won.</summary>
        public const string CancellationFetcher = "aggregation.cancellation.fetcher";

        /// <summary>How long after its token fired a fetch ended, in milliseconds.</summary>
        public const string LateMs = "aggregation.fetch.late_ms";

        /// <summary>An <c>.Ask</c> fetcher's target actor path.</summary>
        public const string AskTarget = "aggregation.ask.target";

        /// <summary>The event on a cancelled fetch's span at the moment its token fired.</summary>
        public const string TokenFiredEvent = "aggregation.token_fired";
    }
}

/// <summary>The library's <see cref="ActivitySource"/>, <see cref="Meter"/> and instruments, and how requests report to them.</summary>
internal static class Telemetry
{
    private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(AggregationTelemetry.ActivitySourceName, Version);

    public static readonly Meter Meter = new(AggregationTelemetry.MeterName, Version);

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "aggregation.request.duration", "s", "Duration of aggregation requests, from arrival at the aggregator to the reply",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });

    public static readonly Histogram<double> FetchDuration = Meter.CreateHistogram<double>(
        "aggregation.fetch.duration", "s", "Duration of fetches, from their start to their task's end, by fetcher, outcome and cancellation cause",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });

    public static readonly Histogram<double> CancellationDuration = Meter.CreateHistogram<double>(
        "aggregation.fetch.cancellation.duration", "s",
        "From a fetch's token firing to its task finishing, by fetcher: how cooperative each dependency's client is",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    public static readonly Counter<long> AbandonedFetches = Meter.CreateCounter<long>(
        "aggregation.fetches.abandoned", "{fetch}", "Fetches still running abandoned-fetch-grace after their token fired, by fetcher");

    private static long _activeRequests;
    private static long _activeFetches;
    private static long _lingeringFetches;

    static Telemetry()
    {
        Meter.CreateObservableUpDownCounter("aggregation.requests.active", static () => Volatile.Read(ref _activeRequests), "{request}",
            "Aggregation requests admitted and not yet answered");
        Meter.CreateObservableUpDownCounter("aggregation.fetches.active", static () => Volatile.Read(ref _activeFetches), "{fetch}",
            "Fetcher actors alive");
        Meter.CreateObservableUpDownCounter("aggregation.fetches.lingering", static () => Volatile.Read(ref _lingeringFetches), "{fetch}",
            "Fetches still running after their actor stopped (their token fired)");
    }

    public static void FetcherStarted() => Interlocked.Increment(ref _activeFetches);

    public static void FetcherStopped() => Interlocked.Decrement(ref _activeFetches);

    public static void LingeringStarted() => Interlocked.Increment(ref _lingeringFetches);

    public static void LingeringEnded() => Interlocked.Decrement(ref _lingeringFetches);


    public static void RequestAdmitted() => Interlocked.Increment(ref _activeRequests);

    public static void RequestAnswered() => Interlocked.Decrement(ref _activeRequests);

    /// <summary>
    /// A request's span, or null when nobody listens: the child of the caller's context (<paramref name="traceParent"/>,
    /// <paramref name="traceState"/>), else a root. <see cref="Activity.Current"/> is left as it was: a span of a request
    /// must never become the current one of the actor thread that started it.
    /// </summary>
    public static Activity? StartRequest(string aggregator, string requestId, object? key, string? traceParent, string? traceState,
        Activity? sharedRun = null)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        var previous = Activity.Current;
        Activity.Current = null; // whatever the actor thread carries is not this request's parent
        // A coalesced request links to the run that serves it, which may live in another trace.
        var span = Source.StartActivity($"aggregate {aggregator}", ActivityKind.Internal, parent,
            links: sharedRun is null ? null : [new ActivityLink(sharedRun.Context)]);
        Activity.Current = previous;
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(AggregationTelemetry.Attributes.Aggregator, aggregator);
            span.SetTag(AggregationTelemetry.Attributes.RequestId, requestId);
            span.SetTag(AggregationTelemetry.Attributes.Key, KeyText(key));
        }
        return span;
    }

    /// <summary>Ends a request's span with its reply (status <c>Error</c> on a failure) and records its duration.</summary>
    public static void EndRequest(Activity? span, IAggregateReply reply, string aggregator, string policy, TimeSpan elapsed)
    {
        EndSpan(span, reply);
        if (RequestDuration.Enabled)
        {
            var tags = new TagList { { AggregationTelemetry.Attributes.Aggregator, aggregator }, { AggregationTelemetry.Attributes.Policy, policy } };
            if (reply is AggregateFailed failed) tags.Add(AggregationTelemetry.Attributes.ErrorType, ErrorType(failed.Reason));
            RequestDuration.Record(elapsed.TotalSeconds, tags);
        }
    }

    /// <summary>Ends a span with its reply, recording nothing else: a coalesced run's, whose requests are measured each on its own.</summary>
    public static void EndSpan(Activity? span, IAggregateReply reply)
    {
        if (span is null) return;
        if (reply is AggregateFailed { Reason: var reason })
        {
            span.SetStatus(ActivityStatusCode.Error, reason.Describe());
            span.SetTag(AggregationTelemetry.Attributes.ErrorType, ErrorType(reason));
        }
        Stop(span);
    }

    /// <summary>Stops <paramref name="span"/> without touching <see cref="Activity.Current"/> (Stop would set its parent there).</summary>
    public static void Stop(Activity span)
    {
        var current = Activity.Current;
        span.Stop();
        if (!ReferenceEquals(Activity.Current, current)) Activity.Current = current;
    }

    /// <summary>A failure's <c>error.type</c>: low-cardinality, one value per kind of failure.</summary>
    public static string ErrorType(AggregationFailure failure) => failure switch
    {
        FetcherFailed => "fetcher_failed",
        DeadlineExceeded => "deadline_exceeded",
        AggregationCancelled => "cancelled",
        CombineFailed => "combine_failed",
        QuorumNotReached => "quorum_not_reached",
        RequestRejected => "rejected",
        NodeFailed => "node_failed",
        _ => "_OTHER",
    };

    /// <summary>The key as an attribute: its text, or its type's name if its ToString throws (user code: never trusted).</summary>
    private static string? KeyText(object? key)
    {
        try
        {
            return key?.ToString();
        }
        catch (Exception)
        {
            return key!.GetType().Name;
        }
    }
}
