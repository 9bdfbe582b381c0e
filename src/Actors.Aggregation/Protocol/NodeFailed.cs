namespace Actors.Aggregation;

/// <summary>
/// The node that ran the request crashed, was removed from the cluster, or (with the opt-in to fail on unreachable nodes)
/// became unreachable, before it answered. Given by an aggregator front (<see cref="AggregatorFront"/>), which is on the
/// requester's side and so can answer when the other node cannot. The request may still have run there, in part or to
/// the end: a reply that arrives after this one is dropped, never delivered.
/// </summary>
/// <param name="Node">The address of the node, e.g. <c>akka.tcp://shop@10.0.0.7:4053</c>.</param>
/// <param name="Reason">What happened to it, in words.</param>
public sealed record NodeFailed(string Node, string Reason) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() => $"node {Node} failed: {Reason}";
}
