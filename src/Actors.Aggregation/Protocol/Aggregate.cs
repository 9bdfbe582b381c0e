namespace Actors.Aggregation;

/// <summary>
/// Asks an aggregator to run its aggregation for <paramref name="Key"/>. The sender gets exactly one reply:
/// <see cref="AggregateSucceeded{TResult}"/>, <see cref="AggregateCompleted{TResult}"/> (under
/// <see cref="CompletionPolicy.CollectAll"/>) or <see cref="AggregateFailed"/>, unless it dies first.
/// </summary>
/// <param name="Key">The key passed to every fetcher. Null is rejected with <see cref="RequestRejected"/>.</param>
public sealed record Aggregate<TKey>(TKey Key) : IAggregateRequest
{
    /// <summary>
    /// Identifies the request in replies, logs and <see cref="CancelAggregate"/>. When absent the aggregator generates a
    /// random one (not guessable from other ids). Must be unique among the aggregator's requests not yet answered;
    /// it may be reused as soon as its reply has been sent.
    /// </summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// This request's deadline, measured from its arrival; overrides the definition's. Must be positive and at most
    /// <see cref="AggregationSettings.MaxTimeout"/>; otherwise the request is rejected.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the caller's <see cref="System.Diagnostics.Activity.Current"/> when this message was
    /// built (null without one): the parent of the request's span, on this node or another. Set it to trace the request
    /// under another context, or to null to make it a root.
    /// </summary>
    public string? TraceParent { get; init; } = CurrentTraceParent();

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>.</summary>
    public string? TraceState { get; init; } = System.Diagnostics.Activity.Current?.TraceStateString;

    /// <summary>Only a W3C id crosses as trace context; a hierarchical id (the legacy format) parents nothing.</summary>
    private static string? CurrentTraceParent() =>
        System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C, Id: var id } ? id : null;

    Type IAggregateRequest.KeyType => typeof(TKey);

    object? IAggregateRequest.KeyObject => Key;

    IAggregateRequest IAggregateRequest.Routed(string requestId, TimeSpan timeout) => this with { RequestId = requestId, Timeout = timeout };
}
