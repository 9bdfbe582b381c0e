namespace Actors.Aggregation;

/// <summary>What an aggregator front (<see cref="AggregatorFront"/>) has done, since it started.</summary>
/// <param name="InFlight">Requests it has sent on and not yet answered.</param>
/// <param name="Aggregators">The aggregators it may send requests to now (reachable, not leaving).</param>
/// <param name="Forwarded">Requests it has sent on, retries on another aggregator included.</param>
/// <param name="BusyRetries">Requests sent to another aggregator because the first answered <c>busy</c>.</param>
/// <param name="NodeFailures">Requests answered with <see cref="NodeFailed"/>.</param>
/// <param name="LateReplies">Replies that came after their request had been answered (by a node failure, the front's own
/// deadline or its stop), dropped and counted here, never delivered twice.</param>
public sealed record FrontStats(int InFlight, int Aggregators, long Forwarded, long BusyRetries, long NodeFailures, long LateReplies) : IWireMessage;
