using Actors.Aggregation.Testing;

namespace Actors.Aggregation;

/// <summary>
/// Asks an aggregator for a <see cref="LeakReport"/>: what it still runs, by request id and fetcher name. Answered at once,
/// like <see cref="GetAggregatorStats"/>; <see cref="AggregationAssert.NoLeaksAsync"/> polls it until the aggregator is quiet.
/// </summary>
public sealed class GetLeakReport : IWireMessage
{
    /// <summary>The only instance.</summary>
    public static GetLeakReport Instance { get; } = new();

    private GetLeakReport() { }
}
