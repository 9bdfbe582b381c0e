using Actors.Aggregation.Hosting;

namespace Actors.Aggregation.Cluster;

/// <summary>How <c>WithClusterAggregator</c> spreads an aggregation over a cluster.</summary>
public sealed class ClusterAggregatorOptions
{
    /// <summary>The role of the members that run aggregators; null for every member. Every member runs the front.</summary>
    public string? Role { get; set; }

    /// <summary>How many aggregators each member with the role runs, behind its own pool front; at least 1 (default 1).</summary>
    public int InstancesPerNode { get; set; } = 1;

    /// <summary>Answer <see cref="NodeFailed"/> as soon as a member is unreachable; null keeps <c>actors.aggregation.front.fail-on-unreachable</c>.</summary>
    public bool? FailOnUnreachable { get; set; }

    /// <summary>The aggregators' own options (name, configuration section, timeout, max-in-flight, grace), as for <c>WithAggregator</c>.
    /// The front is the actor of <see cref="AggregatorOptions.ActorName"/>; each member's pool is that name followed by <c>-pool</c>.</summary>
    public AggregatorOptions Aggregator { get; set; } = new();
}
