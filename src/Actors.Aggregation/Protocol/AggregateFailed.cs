namespace Actors.Aggregation;

/// <summary>The request failed, for the first reason known; every fetch still running had its token fired.</summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Reason">The first cause: <see cref="FetcherFailed"/>, <see cref="DeadlineExceeded"/>, <see cref="AggregationCancelled"/>,
/// <see cref="RequestRejected"/>, <see cref="QuorumNotReached"/> or <see cref="CombineFailed"/>.</param>
public sealed record AggregateFailed(string RequestId, AggregationFailure Reason) : IAggregateReply, IWireMessage
{
    /// <summary>Time from the request's arrival at the aggregator to this reply.</summary>
    public TimeSpan Elapsed { get; init; }
}
