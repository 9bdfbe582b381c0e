namespace Actors.Aggregation;

/// <summary>Asks an aggregator for its <see cref="AggregatorStats"/>. Answered at once, even under load.</summary>
public sealed class GetAggregatorStats
{
    /// <summary>The only instance.</summary>
    public static GetAggregatorStats Instance { get; } = new();

    private GetAggregatorStats() { }
}

/// <summary>A snapshot of one aggregator: what is running now, and what outlived its request.</summary>
/// <param name="InFlight">Requests accepted and not yet finished (their coordinators are alive).</param>
/// <param name="LiveFetchers">Fetcher actors alive now, across all requests.</param>
/// <param name="LingeringFetches">Fetches whose actor has stopped but whose task is still running: they ignored their token, or have not yet noticed it.</param>
/// <param name="AbandonedFetches">Fetches, since the aggregator started, that finished later than <c>abandoned-fetch-grace</c> after their token fired.</param>
/// <param name="Accepted">Requests accepted since the aggregator started.</param>
/// <param name="Rejected">Requests rejected since the aggregator started (bad input or busy).</param>
public sealed record AggregatorStats(int InFlight, int LiveFetchers, int LingeringFetches, long AbandonedFetches, long Accepted, long Rejected);
