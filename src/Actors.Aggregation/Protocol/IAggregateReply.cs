namespace Actors.Aggregation;

/// <summary>Common shape of the replies to <see cref="Aggregate{TKey}"/>.</summary>
public interface IAggregateReply
{
    /// <summary>The request this answers.</summary>
    string RequestId { get; }

    /// <summary>Time from the request's arrival at the aggregator to this reply.</summary>
    TimeSpan Elapsed { get; }
}
