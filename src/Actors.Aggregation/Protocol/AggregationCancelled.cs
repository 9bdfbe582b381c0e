namespace Actors.Aggregation;

/// <summary>
/// The request was stopped before it was complete: its requester sent <see cref="CancelAggregate"/> (or cancelled
/// <c>AggregateAsync</c>), the aggregator stopped or restarted, the request's coordinator failed, or the system is shutting down.
/// </summary>
/// <param name="Reason">Who cancelled it, in words.</param>
public sealed record AggregationCancelled(string Reason) : AggregationFailure
{
    /// <summary>The reason given when the requester sent <see cref="CancelAggregate"/>.</summary>
    public const string ByRequester = "cancelled by the requester";

    /// <inheritdoc />
    public override string Describe() => $"cancelled: {Reason}";
}
