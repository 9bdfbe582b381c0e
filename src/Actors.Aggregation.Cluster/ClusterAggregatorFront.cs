using Akka.Actor;

namespace Actors.Aggregation.Cluster;

/// <summary>
/// A front over the aggregators of a cluster: the actor at <c>aggregatorPath</c> on every member that is up and has the
/// role (this node included, if it has it). It is an <see cref="AggregatorFront"/> in every other respect: round robin,
/// cancels routed to where each request went whatever the membership has done since, busy (or leaving) aggregators passed
/// over within the budget, and exactly one answer on the requester's side. A member that leaves gets no new requests and
/// finishes its own; a member removed or downed while it runs requests has them answered <see cref="NodeFailed"/> at once;
/// an unreachable member gets no new requests, and with <see cref="AggregatorFrontSettings.FailOnUnreachable"/> its requests
/// are answered <see cref="NodeFailed"/> as soon as it is unreachable.
/// </summary>
public static class ClusterAggregatorFront
{
    /// <summary>A cluster front over aggregators of <paramref name="definition"/>.</summary>
    /// <param name="definition">The aggregation they run: the default budget and the fetcher names of the front's own
    /// <see cref="DeadlineExceeded"/>.</param>
    /// <param name="aggregatorPath">Where each member runs its aggregator (or its pool front), e.g. <c>/user/dashboard-pool</c>.</param>
    /// <param name="role">Only members with this role; null for every member.</param>
    /// <param name="frontSettings">The front's settings; null reads <c>actors.aggregation.front</c>.</param>
    public static Props Props<TKey>(AggregationDefinition<TKey> definition, string aggregatorPath, string? role = null,
        AggregatorFrontSettings? frontSettings = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrWhiteSpace(aggregatorPath);
        if (!aggregatorPath.StartsWith("/user/", StringComparison.Ordinal))
            throw new ArgumentException($"The aggregator path must start with /user/, but was '{aggregatorPath}'.", nameof(aggregatorPath));
        if (role is not null && string.IsNullOrWhiteSpace(role)) throw new ArgumentException("The role must not be blank; null means every member.", nameof(role));
        return FrontActor.Props(new FrontActor.Setup(definition.Timeout, null, frontSettings, definition.FetcherNames,
            new ClusterRoutees(aggregatorPath, role)));
    }
}
