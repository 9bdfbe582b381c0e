using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// One ref in front of several aggregators: callers send <see cref="Aggregate{TKey}"/>, <see cref="CancelAggregate"/> and
/// <c>AggregateAsync</c> calls to it as to one aggregator, and it spreads the requests over the aggregators behind
/// it (round robin), remembers where each request went (so a cancel reaches it, whatever changed since), tries another
/// aggregator when one answers <c>busy</c> and the budget allows, and answers exactly once on the requester's side: when the
/// node running a request dies it answers <see cref="NodeFailed"/>, when no answer comes in time it answers
/// <see cref="DeadlineExceeded"/> at the request's own deadline, and a reply that comes after either is dropped and
/// counted (<see cref="FrontStats.LateReplies"/>). <see cref="GetAggregatorStats"/> and <see cref="GetLeakReport"/> sent to a
/// front are answered with the sum over its aggregators, so <c>AggregationAssert.NoLeaksAsync</c> works on a front too.
/// </summary>
public static class AggregatorFront
{
    /// <summary>
    /// A front over <paramref name="instances"/> aggregators of <paramref name="definition"/>, its own children: one
    /// aggregator actor is a serial point, and a pool spreads the requests of one node over its cores.
    /// </summary>
    /// <param name="definition">The aggregation every aggregator of the pool runs.</param>
    /// <param name="instances">How many aggregators; at least 1. Each keeps its own <c>max-in-flight</c>.</param>
    /// <param name="settings">The aggregators' settings; null reads <c>actors.aggregation</c> from the actor system.</param>
    /// <param name="frontSettings">The front's settings; null reads <c>actors.aggregation.front</c>.</param>
    public static Props Pool<TKey>(AggregationDefinition<TKey> definition, int instances, AggregationSettings? settings = null,
        AggregatorFrontSettings? frontSettings = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (instances < 1) throw new ArgumentOutOfRangeException(nameof(instances), instances, "A pool needs at least one aggregator.");
        var aggregator = AggregatorActor.Props(definition, settings);
        return FrontActor.Props(new FrontActor.Setup(definition.Timeout, settings, frontSettings, definition.FetcherNames,
            new PoolRoutees(aggregator, instances)));
    }

    /// <summary>
    /// A front over aggregators that already run, here or on other nodes (refs resolved by the caller). A node's death
    /// is seen through remote DeathWatch: its requests are answered <see cref="NodeFailed"/> when Akka.Remote gives the
    /// node up. A request without <c>Timeout</c> gets <c>actors.aggregation.default-timeout</c> as its budget; the front's
    /// own <see cref="DeadlineExceeded"/> names no pending fetcher (give the definition, if this node knows it, for both).
    /// </summary>
    /// <param name="aggregators">The aggregators; at least one, none null.</param>
    /// <param name="frontSettings">The front's settings; null reads <c>actors.aggregation.front</c>.</param>
    public static Props Over(IReadOnlyList<IActorRef> aggregators, AggregatorFrontSettings? frontSettings = null) =>
        Over(aggregators, null, [], frontSettings);

    /// <summary>
    /// A front over aggregators of <paramref name="definition"/> that already run, here or on other nodes: its deadline is
    /// the budget of a request without <c>Timeout</c>, and its fetcher names are what the front's own
    /// <see cref="DeadlineExceeded"/> lists as pending (the front does not know which parts arrived on the other node).
    /// </summary>
    /// <param name="aggregators">The aggregators; at least one, none null.</param>
    /// <param name="definition">The aggregation they run.</param>
    /// <param name="frontSettings">The front's settings; null reads <c>actors.aggregation.front</c>.</param>
    public static Props Over<TKey>(IReadOnlyList<IActorRef> aggregators, AggregationDefinition<TKey> definition, AggregatorFrontSettings? frontSettings = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Over(aggregators, definition.Timeout, definition.FetcherNames, frontSettings);
    }

    private static Props Over(IReadOnlyList<IActorRef> aggregators, TimeSpan? timeout, IReadOnlyList<string> fetchers, AggregatorFrontSettings? frontSettings)
    {
        ArgumentNullException.ThrowIfNull(aggregators);
        if (aggregators.Count == 0) throw new ArgumentException("A front needs at least one aggregator.", nameof(aggregators));
        if (aggregators.Any(a => a is null)) throw new ArgumentException("An aggregator ref is null.", nameof(aggregators));
        var refs = aggregators.ToArray();
        return FrontActor.Props(new FrontActor.Setup(timeout, null, frontSettings, fetchers, new FixedRoutees(refs)));
    }

    /// <summary>
    /// Stops <paramref name="front"/> admitting (new requests get <see cref="RequestRejected"/> saying it is leaving) and
    /// completes when every request it runs is answered, or after <paramref name="timeout"/>, whichever is first. It does
    /// not stop the front: stop it afterwards (what is still in flight is then answered <see cref="AggregationCancelled"/>).
    /// </summary>
    /// <returns>True when every request was answered in time.</returns>
    public static async Task<bool> DrainAsync(IActorRef front, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(front);
        AggregationSettings.ValidateTimeout(timeout, "The drain timeout", nameof(timeout));
        try
        {
            var drained = await front.Ask<FrontActor.Drained>(new FrontActor.Drain(timeout), timeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return drained.Complete;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }
}
