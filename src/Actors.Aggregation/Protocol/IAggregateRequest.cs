namespace Actors.Aggregation;

/// <summary>Untyped view of an <see cref="Aggregate{TKey}"/>, so the aggregator can answer a request whose key has the wrong type.</summary>
internal interface IAggregateRequest
{
    string? RequestId { get; }
    TimeSpan? Timeout { get; }
    Type KeyType { get; }
}
