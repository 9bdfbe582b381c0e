namespace Actors.Aggregation;

/// <summary>
/// The request never started: bad input (null key, a timeout not positive or over <see cref="AggregationSettings.MaxTimeout"/>,
/// an empty id, an id already in flight, a key of the wrong type) admission control (<c>busy</c>), a draining front (<see cref="Leaving"/>), or a front with no aggregator.
/// </summary>
/// <param name="Reason">What was wrong, in words.</param>
public sealed record RequestRejected(string Reason) : AggregationFailure
{
    /// <summary>The reason given when the aggregator already runs <c>max-in-flight</c> requests.</summary>
    public const string Busy = "busy";

    /// <summary>The reason given by an aggregator front that is draining, because its node is leaving or shutting down.</summary>
    public const string Leaving = "the node is leaving";

    /// <inheritdoc />
    public override string Describe() => $"rejected: {Reason}";
}
