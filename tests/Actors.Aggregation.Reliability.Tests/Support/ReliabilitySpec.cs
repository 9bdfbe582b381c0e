using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Base of the reliability specs: a TestKit system whose library settings make abandonment quick to observe,
/// and which logs at Error only (these specs run thousands of failing requests, each logged at Warning by design).
/// </summary>
public abstract class ReliabilitySpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Generous on purpose: the CI machine has 2 noisy cores.</summary>
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    /// <summary>The abandoned-fetch grace of every aggregator here.</summary>
    protected static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(100);

    protected static readonly Config ReliabilityConfig = ConfigurationFactory.ParseString($$"""
        akka.loglevel = ERROR
        akka.log-dead-letters = off
        actors.aggregation.abandoned-fetch-grace = {{Grace.TotalMilliseconds}}ms
        """);

    protected ReliabilitySpec(ITestOutputHelper output, Config? config = null)
        : base((config ?? Config.Empty).WithFallback(ReliabilityConfig), output: output)
    {
    }

    protected static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    protected async Task<AggregatorStats> StatsAsync(IActorRef aggregator) =>
        await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous);

    /// <summary>Actors alive under <paramref name="parent"/>, itself excluded, read from the actor tree rather than from the library's own counters.</summary>
    protected static int CountDescendants(IActorRef parent) =>
        parent is ActorRefWithCell cell ? cell.Children.Sum(child => 1 + CountDescendants(child)) : 0;

    /// <summary>Every actor alive in <paramref name="system"/> under /user and /system.</summary>
    protected static int CountLiveActors(ActorSystem system)
    {
        var extended = (ExtendedActorSystem)system;
        return CountDescendants(extended.Guardian) + CountDescendants(extended.SystemGuardian);
    }

    /// <summary>Waits for <paramref name="condition"/> without sleeping the test thread.</summary>
    protected Task EventuallyAsync(Func<bool> condition, TimeSpan? within = null, string? because = null) =>
        AwaitConditionAsync(() => Task.FromResult(condition()), within ?? Generous, Ms(20), because);
}
