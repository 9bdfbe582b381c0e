using System.Diagnostics;
using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>Builds an aggregator's <see cref="LeakReport"/> from its live coordinators and its counters; runs on the aggregator.</summary>
internal static class LeakReporting
{
    public static LeakReport Build<TKey>(IReadOnlyCollection<(string RequestId, IActorRef Coordinator)> live, FetchStep<TKey>[] steps, AggregatorRuntime runtime)
    {
        var requests = new InFlightRequest[live.Count];
        var i = 0;
        foreach (var (requestId, coordinator) in live)
            requests[i++] = new InFlightRequest(requestId, LiveFetchersOf(coordinator, steps));

        var lingering = runtime.Counters.LingeringSnapshot();
        var fetches = new LingeringFetch[lingering.Length];
        for (var j = 0; j < lingering.Length; j++)
            fetches[j] = new LingeringFetch(lingering[j].RequestId, lingering[j].Fetcher,
                Stopwatch.GetElapsedTime(lingering[j].StoppedTimestamp), lingering[j].IsAbandoned);
        return new LeakReport(requests, runtime.Counters.LiveFetchers, fetches);
    }

    /// <summary>
    /// The coordinator's live children, read from its cell the way Akka's own ActorSelection walks a tree from another
    /// thread (the children container is immutable); fetcher actors are named after their fetcher.
    /// </summary>
    private static string[] LiveFetchersOf<TKey>(IActorRef coordinator, FetchStep<TKey>[] steps)
    {
        if (coordinator is not ActorRefWithCell cell) return [];
        var alive = cell.Children.Select(child => child.Path.Name).ToHashSet(StringComparer.Ordinal);
        var names = new List<string>(alive.Count);
        foreach (var step in steps)
            if (alive.Remove(step.ActorName)) names.Add(step.Name);
        foreach (var other in alive) names.Add(ActorNames.Unescape(other)); // not a fetcher of this definition: still worth naming
        return names.ToArray();
    }
}
