namespace Actors.Aggregation;

/// <summary>
/// The request never started: bad input (null key, a timeout not positive or over <see cref="AggregationSettings.MaxTimeout"/>,
/// an empty id, an id already in flight, a key of the wrong type) or admission control (<c>busy</c>).
/// </summary>
/// <param name="Reason">What was wrong, in words.</param>
public sealed record RequestRejected(string Reason) : AggregationFailure
{
    /// <summary>The reason given when the aggregator already runs <c>max-in-flight</c> requests.</summary>
    public const string Busy = "busy";

    /// <inheritdoc />
    public override string Describe() => $"rejected: {Reason}";
}
