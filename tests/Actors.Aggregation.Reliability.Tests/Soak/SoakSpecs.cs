using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;
using Actors.Aggregation.Testing;

namespace Actors.Aggregation.Reliability.Tests.Soak;

/// <summary>
/// The soak: many mixed requests, more than the aggregator admits at once, on one aggregator. Size: <c>AGGREGATION_SOAK=full</c>
/// runs 1,000,000 requests, <c>AGGREGATION_SOAK=&lt;n&gt;</c> runs n, and by default (CI) 150,000. Figures go to the test output.
/// </summary>
public sealed class SoakSpecs(ITestOutputHelper output) : ReliabilitySpec(output)
{
    private const int Limit = 1_000;
    private const int Overflow = 50;
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Generous: under full load on two cores a cooperative fetch can take a few hundred milliseconds to be scheduled after
    /// its token fired, and must not be mistaken for one that ignores it.
    /// </summary>
    private static readonly TimeSpan SoakGrace = TimeSpan.FromSeconds(1);

    /// <summary>A token-ignoring fetch runs on this long after its token fired: three graces.</summary>
    private static readonly TimeSpan IgnorerTail = TimeSpan.FromSeconds(3);

    /// <summary>How much managed memory may differ from the baseline once the run is over.</summary>
    private const long MemoryTolerance = 4 * 1048576;

    private static int Requests => Environment.GetEnvironmentVariable("AGGREGATION_SOAK") switch
    {
        "full" => 1_000_000,
        { } n when int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) => count,
        _ => 150_000,
    };

    [Fact]
    public async Task Mixed_requests_at_the_admission_limit_must_keep_the_aggregator_responsive_and_leave_nothing_behind()
    {
        var system = ActorSystem.Create("soak", ConfigurationFactory.ParseString($$"""
            akka.loglevel = ERROR
            akka.log-dead-letters = off
            actors.aggregation {
              max-in-flight = {{Limit}}
              abandoned-fetch-grace = {{SoakGrace.TotalMilliseconds}}ms
            }
            """));
        try
        {
            await SoakAsync(system);
        }
        finally
        {
            await system.Terminate();
        }
    }

    private async Task SoakAsync(ActorSystem system)
    {
        var workload = new SoakWorkload(IgnorerTail);
        var aggregator = system.ActorOf(AggregatorActor.Props(workload.Definition()), "soak");

        // Warm-up, then the baseline: every table, pool and cache the run needs has been sized once.
        await DriveAsync(system, aggregator, 20_000, seed: 1);
        await AggregationAssert.NoLeaksAsync(aggregator, TimeSpan.FromSeconds(30));
        await Task.Delay(SoakDriver.LongestDeadline + TimeSpan.FromSeconds(1)); // see the measurement after the run
        var (baselineBytes, baselineActors) = Measure(system);
        var before = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous);
        var ignorersBefore = workload.IgnorersStarted;

        var requests = Requests;
        var probes = new ConcurrentQueue<(double Ms, string Outcome)>();
        var inFlight = new ConcurrentQueue<int>();
        var started = Stopwatch.GetTimestamp();
        using var stopProbing = new CancellationTokenSource();
        var probing = ProbeEverySecondAsync(aggregator, probes, inFlight, stopProbing.Token);

        var tally = await DriveAsync(system, aggregator, requests, seed: 2);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await stopProbing.CancelAsync();
        await probing;

        await AggregationAssert.NoLeaksAsync(aggregator, TimeSpan.FromSeconds(60));
        var after = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous);
        var (quietBytes, afterActors) = Measure(system);
        // A cancelled timer stays in Akka's timer wheel until its due time, and the longest deadline here is 5 s: measure
        // again once every timer the run armed is past due, which is when "back to the baseline" is fair to ask.
        var settling = Stopwatch.GetTimestamp();
        await Task.Delay(SoakDriver.LongestDeadline + TimeSpan.FromSeconds(1));
        var afterBytes = Measure(system).Bytes;
        var settled = Stopwatch.GetElapsedTime(settling);

        var abandoned = after.AbandonedFetches - before.AbandonedFetches;
        var ignorers = workload.IgnorersStarted - ignorersBefore;
        var probeList = probes.ToArray();
        Output.WriteLine($"soak: {requests:N0} requests in {elapsed.TotalSeconds:0.0} s ({requests / elapsed.TotalSeconds:N0}/s), max-in-flight {Limit}, {Limit + Overflow} outstanding");
        Output.WriteLine($"outcomes: {string.Join(", ", tally.Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value:N0}"))}");
        Output.WriteLine($"in flight, sampled each second: max {inFlight.DefaultIfEmpty().Max():N0}, mean {inFlight.DefaultIfEmpty().Average():N0}");
        Output.WriteLine($"probes: {probeList.Length}, slowest {probeList.Select(p => p.Ms).DefaultIfEmpty().Max():0} ms, "
            + string.Join(", ", probeList.GroupBy(p => p.Outcome).Select(g => $"{g.Key} {g.Count()}")));
        Output.WriteLine($"abandoned fetches {abandoned:N0}, fetches that ignored their token {ignorers:N0}");
        Output.WriteLine($"managed memory: baseline {baselineBytes / 1048576.0:0.0} MB, when quiet {quietBytes / 1048576.0:0.0} MB, "
            + $"{settled.TotalSeconds:0.0} s later {afterBytes / 1048576.0:0.0} MB; live actors: baseline {baselineActors}, after {afterActors}");
        Output.WriteLine($"aggregator stats after: {after}");
        foreach (var mismatch in tally.Mismatches) Output.WriteLine($"mismatch: {mismatch}");

        Assert.Equal(0, tally.MismatchCount);
        Assert.True(probeList.Length >= (int)elapsed.TotalSeconds - 1, $"{probeList.Length} probes in {elapsed.TotalSeconds:0} s");
        Assert.All(probeList, p => Assert.True(p.Ms < ProbeDeadline.TotalMilliseconds && p.Outcome != "no reply", $"probe: {p.Outcome} after {p.Ms:0} ms"));
        Assert.True(tally.Outcomes.GetValueOrDefault("rejected: busy") > 0, "the run never reached the admission limit");
        Assert.Equal(ignorers, abandoned);
        Assert.Equal(baselineActors, afterActors);
        Assert.True(afterBytes - baselineBytes < MemoryTolerance, $"managed memory grew by {(afterBytes - baselineBytes) / 1048576.0:0.0} MB");
        Assert.Equal((0, 0, 0), (after.InFlight, after.LiveFetchers, after.LingeringFetches));
    }

    /// <summary>Runs a driver to completion, then stops it, so it is not counted among the live actors.</summary>
    private static async Task<SoakTally> DriveAsync(ActorSystem system, IActorRef aggregator, int requests, int seed)
    {
        var tally = new SoakTally();
        var driver = system.ActorOf(SoakDriver.Props(aggregator, requests, Limit + Overflow, seed, tally));
        await tally.Completed.Task.WaitAsync(TimeSpan.FromMinutes(30));
        await driver.GracefulStop(TimeSpan.FromSeconds(10));
        return tally;
    }

    /// <summary>Once a second: a fast request with a 1 s deadline (any answer within it counts: admitted or rejected as busy), and the in-flight count.</summary>
    private static async Task ProbeEverySecondAsync(IActorRef aggregator, ConcurrentQueue<(double, string)> probes, ConcurrentQueue<int> inFlight, CancellationToken stop)
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var n = 0;
        try
        {
            while (await ticks.WaitForNextTickAsync(stop))
            {
                var sent = Stopwatch.GetTimestamp();
                string outcome;
                try
                {
                    var reply = await aggregator.Ask<IAggregateReply>(
                        new Aggregate<SoakKey>(new SoakKey(SoakKind.Succeeds, 0)) { RequestId = $"probe-{++n}", Timeout = ProbeDeadline },
                        ProbeDeadline + TimeSpan.FromSeconds(5), CancellationToken.None);
                    outcome = reply switch
                    {
                        AggregateSucceeded<string> => "succeeded",
                        AggregateFailed { Reason: RequestRejected { Reason: RequestRejected.Busy } } => "rejected as busy",
                        AggregateFailed f => f.Reason.Describe(),
                        _ => reply.GetType().Name,
                    };
                }
                catch (AskTimeoutException)
                {
                    outcome = "no reply";
                }
                probes.Enqueue((Stopwatch.GetElapsedTime(sent).TotalMilliseconds, outcome));
                inFlight.Enqueue((await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(5), CancellationToken.None)).InFlight);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static (long Bytes, int Actors) Measure(ActorSystem system)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return (GC.GetTotalMemory(forceFullCollection: true), CountLiveActors(system));
    }
}
