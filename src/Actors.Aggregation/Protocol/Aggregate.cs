namespace Actors.Aggregation;

/// <summary>Untyped view of an <see cref="Aggregate{TKey}"/>, so the aggregator can answer a request whose key has the wrong type.</summary>
internal interface IAggregateRequest
{
    string? RequestId { get; }
    TimeSpan? Timeout { get; }
    Type KeyType { get; }
}

/// <summary>
/// Asks an aggregator to run its aggregation for <paramref name="Key"/>. The sender gets exactly one reply:
/// <see cref="AggregateSucceeded{TResult}"/> or <see cref="AggregateFailed"/>, unless it dies first.
/// </summary>
/// <param name="Key">The key passed to every fetcher. Null is rejected with <see cref="RequestRejected"/>.</param>
public sealed record Aggregate<TKey>(TKey Key) : IAggregateRequest
{
    /// <summary>
    /// Identifies the request in replies, logs and <see cref="CancelAggregate"/>. Generated when absent.
    /// Must be unique among the aggregator's requests in flight.
    /// </summary>
    public string? RequestId { get; init; }

    /// <summary>This request's deadline, measured from its arrival; overrides the definition's. Must be positive.</summary>
    public TimeSpan? Timeout { get; init; }

    Type IAggregateRequest.KeyType => typeof(TKey);
}

/// <summary>
/// Cancels a request in flight, like cancelling errgroup's parent context: every fetch's token fires and the requester
/// gets <see cref="AggregateFailed"/> with <see cref="AggregationCancelled"/>. Unknown or finished ids are ignored.
/// </summary>
/// <param name="RequestId">The <see cref="Aggregate{TKey}.RequestId"/> of the request.</param>
public sealed record CancelAggregate(string RequestId);
