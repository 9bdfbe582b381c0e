namespace Actors.Aggregation;

/// <summary>Common shape of the two replies to <see cref="Aggregate{TKey}"/>.</summary>
public interface IAggregateReply
{
    /// <summary>The request this answers.</summary>
    string RequestId { get; }

    /// <summary>Time from the request's arrival at the aggregator to this reply.</summary>
    TimeSpan Elapsed { get; }
}

/// <summary>Every fetcher succeeded; <paramref name="Result"/> is their combination.</summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Result">The combined result.</param>
/// <param name="Elapsed">Time from the request's arrival at the aggregator to this reply.</param>
public sealed record AggregateSucceeded<TResult>(string RequestId, TResult Result, TimeSpan Elapsed) : IAggregateReply;

/// <summary>The request failed, for the first reason known; siblings were (or are being) stopped and their tokens cancelled.</summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Reason">The first cause: <see cref="FetcherFailed"/>, <see cref="DeadlineExceeded"/>, <see cref="AggregationCancelled"/>,
/// <see cref="RequestRejected"/> or <see cref="CombineFailed"/>.</param>
public sealed record AggregateFailed(string RequestId, AggregationFailure Reason) : IAggregateReply
{
    /// <summary>Time from the request's arrival at the aggregator to this reply.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// The reply under <see cref="CompletionPolicy.CollectAll"/>: every fetcher finished or the deadline passed. Each part's
/// outcome is kept, in declared order; <paramref name="Result"/> is <c>Combine</c> over the parts that succeeded.
/// </summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Result">The combination of the successful parts.</param>
/// <param name="Parts">Every part's outcome, in declared order.</param>
/// <param name="Elapsed">Time from the request's arrival at the aggregator to this reply.</param>
public sealed record AggregateCompleted<TResult>(string RequestId, TResult Result, IReadOnlyList<PartOutcome> Parts, TimeSpan Elapsed) : IAggregateReply
{
    /// <summary>True when every part succeeded.</summary>
    public bool AllSucceeded => Parts.All(p => p.Status == PartStatus.Succeeded);
}
