namespace Actors.Aggregation;

/// <summary>Asks an aggregator for its <see cref="AggregatorStats"/>. Answered at once, even under load.</summary>
public sealed class GetAggregatorStats : IWireMessage
{
    /// <summary>The only instance.</summary>
    public static GetAggregatorStats Instance { get; } = new();

    private GetAggregatorStats() { }
}
