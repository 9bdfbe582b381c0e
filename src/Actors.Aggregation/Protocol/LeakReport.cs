using System.Text;

namespace Actors.Aggregation;

/// <summary>
/// Asks an aggregator for a <see cref="LeakReport"/>: what it still runs, by request id and fetcher name. Answered at once,
/// like <see cref="GetAggregatorStats"/>; <see cref="AggregationAssert.NoLeaksAsync"/> polls it until the aggregator is quiet.
/// </summary>
public sealed class GetLeakReport
{
    /// <summary>The only instance.</summary>
    public static GetLeakReport Instance { get; } = new();

    private GetLeakReport() { }
}

/// <summary>
/// What an aggregator still runs, named, at one moment. Once every request has been answered and a moment has passed,
/// a healthy aggregator reports nothing (<see cref="IsQuiet"/>): anything listed then has outlived its request.
/// </summary>
/// <param name="InFlight">Requests accepted and not yet finished (their coordinators are alive), in no particular order.</param>
/// <param name="LiveFetchers">Fetcher actors alive now, across all requests (the gauge of <see cref="AggregatorStats.LiveFetchers"/>).
/// Normally every one of them is listed under a request of <paramref name="InFlight"/>.</param>
/// <param name="LingeringFetches">Fetches whose actor has stopped but whose task still runs, oldest first: they have not yet
/// noticed their token, or they ignore it (<see cref="LingeringFetch.Abandoned"/>).</param>
public sealed record LeakReport(IReadOnlyList<InFlightRequest> InFlight, int LiveFetchers, IReadOnlyList<LingeringFetch> LingeringFetches)
{
    /// <summary>True when nothing is in flight, no fetcher actor is alive and no fetch is still running.</summary>
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

/// <summary>A request in flight, with the fetcher actors alive under its coordinator.</summary>
/// <param name="RequestId">The request's id.</param>
/// <param name="LiveFetchers">Names of the fetchers whose actors are alive, in declared order.</param>
public sealed record InFlightRequest(string RequestId, IReadOnlyList<string> LiveFetchers)
{
    /// <summary>For example <c>request 'r-7' (live fetchers: profile, orders)</c>.</summary>
    public string Describe() =>
        $"request '{RequestId}' ({(LiveFetchers.Count == 0 ? "no live fetcher" : "live fetchers: " + string.Join(", ", LiveFetchers))})";
}

/// <summary>A fetch whose actor has stopped and whose token has fired, but whose task still runs.</summary>
/// <param name="RequestId">The request it served.</param>
/// <param name="Fetcher">The fetcher's name.</param>
/// <param name="SinceTokenFired">How long ago its token fired.</param>
/// <param name="Abandoned">True once <see cref="SinceTokenFired"/> exceeds <c>abandoned-fetch-grace</c>: it ignores its token.</param>
public sealed record LingeringFetch(string RequestId, string Fetcher, TimeSpan SinceTokenFired, bool Abandoned)
{
    /// <summary>For example <c>fetcher 'orders' of request 'r-7', 1200 ms after its token fired (abandoned)</c>.</summary>
    public string Describe() =>
        $"fetcher '{Fetcher}' of request '{RequestId}', {SinceTokenFired.TotalMilliseconds:0} ms after its token fired{(Abandoned ? " (abandoned: it ignores its token)" : "")}";
}
