namespace Actors.Aggregation;

/// <summary>A snapshot of one aggregator: what is running now, and what outlived its request.</summary>
/// <param name="InFlight">Requests accepted and not yet answered. A request leaves this count the moment it is decided.</param>
/// <param name="LiveFetchers">Fetcher actors alive now, across all requests.</param>
/// <param name="LingeringFetches">Fetches whose actor has stopped but whose task is still running: they have not yet
/// noticed their token, or they ignore it.</param>
/// <param name="AbandonedFetches">Fetches, since the aggregator started, still running <c>abandoned-fetch-grace</c> after
/// their actor stopped (their token had fired): they ignored their token.</param>
/// <param name="Accepted">Requests accepted since the aggregator started.</param>
/// <param name="Rejected">Requests rejected since the aggregator started (bad input or busy).</param>
public sealed record AggregatorStats(int InFlight, int LiveFetchers, int LingeringFetches, long AbandonedFetches, long Accepted, long Rejected) : IWireMessage
{
    /// <summary>
    /// Of the accepted requests, those that joined a run already going for an equal key instead of fanning out
    /// (<c>WithCoalescing</c>): fan-outs saved. Always 0 for a definition that does not coalesce.
    /// </summary>
    public long Coalesced { get; init; }
}
