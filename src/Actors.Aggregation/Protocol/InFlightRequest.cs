namespace Actors.Aggregation;

/// <summary>A request whose coordinator is alive, with the fetcher actors alive under it.</summary>
/// <param name="RequestId">The request's id.</param>
/// <param name="LiveFetchers">Names of the fetchers whose actors are alive, in declared order.</param>
public sealed record InFlightRequest(string RequestId, IReadOnlyList<string> LiveFetchers)
{
    /// <summary>For example <c>request 'r-7' (live fetchers: profile, orders)</c>.</summary>
    public string Describe() =>
        $"request '{RequestId}' ({(LiveFetchers.Count == 0 ? "no live fetcher" : "live fetchers: " + string.Join(", ", LiveFetchers))})";
}
