using System.Diagnostics;
using System.Globalization;

namespace Actors.Dashboard.Requests;

/// <summary>One request's trace as <see cref="RequestRecorder"/> kept it: the library's stopped spans that share a trace id.</summary>
/// <param name="TraceId">The W3C trace id every span of the trace carries.</param>
/// <param name="Number">The order in which the recorder saw the trace's request start, from 1: higher is newer.</param>
/// <param name="Spans">The stopped spans, in the order they stopped.</param>
/// <param name="OpenSpans">Spans of the trace started and not stopped yet (a fetch still running, a request not yet answered).</param>
/// <param name="Truncated">More spans stopped than the recorder keeps per trace; the later ones were dropped.</param>
public sealed record RequestTrace(ActivityTraceId TraceId, long Number, IReadOnlyList<RecordedSpan> Spans, int OpenSpans, bool Truncated)
{
    /// <summary>The request spans (<c>aggregate {aggregator}</c>) among <see cref="Spans"/>, earliest first.</summary>
    public IReadOnlyList<RecordedSpan> Requests => Spans.Where(s => s.IsRequest).OrderBy(s => s.StartUtc).ToArray();

    /// <summary>The request was answered and nothing of the trace is still running (a late completion may still come).</summary>
    public bool IsSettled => OpenSpans == 0 && Spans.Any(s => s.IsRequest);
}

/// <summary>A stopped span, copied from its <see cref="Activity"/>: what the waterfall needs of it, immutable.</summary>
/// <param name="Name">The span's name, e.g. <c>fetch orders</c>.</param>
/// <param name="SpanId">Its id.</param>
/// <param name="ParentSpanId">Its parent's id (the request's span, for a fetch or a late completion).</param>
/// <param name="StartUtc">When it started.</param>
/// <param name="Duration">How long it ran.</param>
/// <param name="Status">Its status: <see cref="ActivityStatusCode.Error"/> on a failed request and on the decisive failed fetch.</param>
/// <param name="StatusDescription">The status's description, if any.</param>
/// <param name="Tags">Its attributes, as invariant text.</param>
/// <param name="Events">Its events, e.g. <c>aggregation.token_fired</c>.</param>
/// <param name="Links">The span ids it links to (a late completion to its abandoned fetch, a cancelled fetch to the sibling that failed).</param>
public sealed record RecordedSpan(
    string Name,
    ActivitySpanId SpanId,
    ActivitySpanId ParentSpanId,
    DateTime StartUtc,
    TimeSpan Duration,
    ActivityStatusCode Status,
    string? StatusDescription,
    IReadOnlyDictionary<string, string?> Tags,
    IReadOnlyList<RecordedEvent> Events,
    IReadOnlyList<ActivitySpanId> Links)
{
    /// <summary>The name prefix of a request's span.</summary>
    public const string RequestPrefix = "aggregate ";

    /// <summary>The name prefix of a fetch's span (one per attempt).</summary>
    public const string FetchPrefix = "fetch ";

    /// <summary>The name prefix of an abandoned fetch's late completion.</summary>
    public const string LateCompletionPrefix = "late completion ";

    /// <summary>When it stopped.</summary>
    public DateTime EndUtc => StartUtc + Duration;

    /// <summary>A request's span.</summary>
    public bool IsRequest => Name.StartsWith(RequestPrefix, StringComparison.Ordinal);

    /// <summary>A fetch's span.</summary>
    public bool IsFetch => Name.StartsWith(FetchPrefix, StringComparison.Ordinal);

    /// <summary>An abandoned fetch's late completion.</summary>
    public bool IsLateCompletion => Name.StartsWith(LateCompletionPrefix, StringComparison.Ordinal);

    /// <summary>The attribute <paramref name="name"/>, or null.</summary>
    public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value : null;

    /// <summary>Copies <paramref name="activity"/>, which has stopped.</summary>
    public static RecordedSpan From(Activity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in activity.TagObjects)
            tags[key] = value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value?.ToString();
        var events = activity.Events.Select(e => new RecordedEvent(e.Name, e.Timestamp.UtcDateTime)).ToArray();
        var links = activity.Links.Select(l => l.Context.SpanId).ToArray();
        return new RecordedSpan(activity.DisplayName, activity.SpanId, activity.ParentSpanId, activity.StartTimeUtc, activity.Duration,
            activity.Status, activity.StatusDescription, tags, events, links);
    }
}

/// <summary>An event on a span.</summary>
/// <param name="Name">Its name, e.g. <c>aggregation.token_fired</c>.</param>
/// <param name="TimeUtc">When it happened.</param>
public sealed record RecordedEvent(string Name, DateTime TimeUtc);
