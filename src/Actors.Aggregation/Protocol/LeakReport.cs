using System.Text;

namespace Actors.Aggregation;

/// <summary>
/// What an aggregator still runs, named, at one moment. Once every request has been answered and a moment has passed,
/// a healthy aggregator reports nothing (<see cref="IsQuiet"/>): anything listed then has outlived its request.
/// </summary>
/// <param name="InFlight">Requests whose coordinator is alive (not yet answered, or answered and still stopping its
/// fetchers), in no particular order.</param>
/// <param name="LiveFetchers">Fetcher actors alive now, across all requests (the gauge of <see cref="AggregatorStats.LiveFetchers"/>).
/// Normally every one of them is listed under a request of <paramref name="InFlight"/>.</param>
/// <param name="LingeringFetches">Fetches whose actor has stopped but whose task still runs, oldest first: they have not yet
/// noticed their token, or they ignore it (<see cref="LingeringFetch.Abandoned"/>).</param>
public sealed record LeakReport(IReadOnlyList<InFlightRequest> InFlight, int LiveFetchers, IReadOnlyList<LingeringFetch> LingeringFetches) : IWireMessage
{
    /// <summary>True when no coordinator is alive, no fetcher actor is alive and no fetch is still running.</summary>
    public bool IsQuiet => InFlight.Count == 0 && LiveFetchers == 0 && LingeringFetches.Count == 0;

    /// <summary>One paragraph naming every request and fetcher still running, or <c>"quiet"</c>.</summary>
    public string Describe()
    {
        if (IsQuiet) return "quiet";
        var text = new StringBuilder();
        if (InFlight.Count > 0)
        {
            text.Append(InFlight.Count).Append(InFlight.Count == 1 ? " request" : " requests").Append(" in flight: ");
            text.AppendJoin("; ", InFlight.Select(r => r.Describe())).Append(". ");
        }
        var listed = InFlight.Sum(r => r.LiveFetchers.Count);
        if (LiveFetchers != listed)
            text.Append(LiveFetchers).Append(" fetcher actor(s) counted alive, ").Append(listed).Append(" found under requests in flight. ");
        if (LingeringFetches.Count > 0)
        {
            text.Append(LingeringFetches.Count).Append(LingeringFetches.Count == 1 ? " fetch" : " fetches")
                .Append(" still running after its actor stopped: ");
            text.AppendJoin("; ", LingeringFetches.Select(f => f.Describe())).Append('.');
        }
        return text.ToString().TrimEnd();
    }
}
