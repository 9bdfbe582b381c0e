namespace Actors.Aggregation;

/// <summary>Untyped view of an <see cref="Aggregate{TKey}"/>, so the aggregator can answer a request whose key has the wrong type,
/// and the serializer can write one without knowing <c>TKey</c>.</summary>
internal interface IAggregateRequest : IWireMessage
{
    string? RequestId { get; }
    TimeSpan? Timeout { get; }
    Type KeyType { get; }
    object? KeyObject { get; }
    string? TraceParent { get; }
    string? TraceState { get; }

    /// <summary>The same request under another id and with another budget: what a front sends on.</summary>
    IAggregateRequest Routed(string requestId, TimeSpan timeout);
}

/// <summary>The library's public messages, which cross nodes: what <see cref="Serialization.AggregationSerializer"/> is bound to.</summary>
internal interface IWireMessage;

/// <summary>Untyped view of an <see cref="AggregateSucceeded{TResult}"/>, for the serializer.</summary>
internal interface IAggregateSucceeded : IAggregateReply, IWireMessage
{
    Type ResultType { get; }
    object? ResultObject { get; }

    /// <summary>The optional parts that fell back.</summary>
    IReadOnlyList<PartOutcome> FellBack { get; }

    /// <summary>A copy with <paramref name="fellBack"/> (the serializer's reader).</summary>
    IAggregateSucceeded WithFellBack(IReadOnlyList<PartOutcome> fellBack);
}

/// <summary>Untyped view of an <see cref="AggregateCompleted{TResult}"/>, for the serializer.</summary>
internal interface IAggregateCompleted : IAggregateSucceeded
{
    IReadOnlyList<PartOutcome> Parts { get; }
}
