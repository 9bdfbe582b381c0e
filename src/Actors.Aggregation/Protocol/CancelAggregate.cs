namespace Actors.Aggregation;

/// <summary>
/// Cancels a request in flight, like cancelling errgroup's parent context: every fetch's token fires and the requester
/// gets <see cref="AggregateFailed"/> with <see cref="AggregationCancelled"/>. Only the request's own requester may cancel
/// it: the aggregator accepts it only from the actor that sent the <see cref="Aggregate{TKey}"/> (from plain code, cancel
/// the token given to <c>AggregateAsync</c>). A cancel from anyone else, with no sender, for an unknown id or for a request
/// already answered is ignored (logged at Debug).
/// </summary>
/// <param name="RequestId">The <see cref="Aggregate{TKey}.RequestId"/> of the request.</param>
public sealed record CancelAggregate(string RequestId) : IWireMessage;
