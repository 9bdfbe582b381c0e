using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// Beyond one aggregator: the same request served by a local aggregator, by an aggregator on another node (a second actor
/// system in this process, over Akka.Remote TCP on 127.0.0.1), and through a front over a pool of 1, 2 and 4 local
/// aggregators; and a cancel crossing nodes, from <c>CancelAggregate</c> sent on node A to the fetch's token firing on
/// node B. Both systems are in one process, so one clock times both ends and the bytes counted are both nodes'.
/// </summary>
public static class NodeExperiments
{
    private static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        """).WithFallback(AggregationSettings.DefaultConfig());

    /// <summary>Requests/s, µs and bytes per request from node A to an aggregator on node B.</summary>
    public static async Task<LoadReport> RemoteThroughputAsync(int fanOut, int inFlight, TimeSpan warmup, TimeSpan measure)
    {
        var a = BenchSystem.Create("node", RemoteConfig);
        var b = BenchSystem.Create("node", RemoteConfig);
        try
        {
            var workload = Workload.Instant(fanOut);
            b.ActorOf(AggregatorActor.Props(workload.ToDefinition(), ApproachFactory.OurSettings(b)), "ours");
            var remote = await a.ActorSelection(new RootActorPath(Address(b)) / "user" / "ours").ResolveOne(TimeSpan.FromSeconds(10));
            var expected = Workload.ExpectedInstantResult(fanOut);
            return await a.DriveAsync(new ActorApproach(remote), new LoadPlan(inFlight)
            {
                Warmup = warmup,
                Measure = measure,
                Expected = reply => reply is AggregateSucceeded<string> ok && ok.Result == expected,
            });
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate());
        }
    }

    /// <summary>A front over <paramref name="aggregators"/> local aggregators, as an approach.</summary>
    public static IApproach Front(ActorSystem system, Workload workload, int aggregators) =>
        new ActorApproach(system.ActorOf(AggregatorFront.Pool(workload.ToDefinition(), aggregators, ApproachFactory.OurSettings(system)), "front"));

    /// <summary>
    /// Microseconds from a cancel sent on node A (a cancelled <c>AggregateAsync</c> token) to the fetch's token firing on node
    /// B, one request at a time, <paramref name="requests"/> times after <paramref name="warmup"/> untimed ones.
    /// </summary>
    public static async Task<double[]> CancelAcrossNodesAsync(int requests, int warmup)
    {
        var a = BenchSystem.Create("node", RemoteConfig);
        var b = BenchSystem.Create("node", RemoteConfig);
        try
        {
            var started = new ConcurrentDictionary<int, TaskCompletionSource>();
            var fired = new ConcurrentDictionary<int, TaskCompletionSource<long>>();
            TaskCompletionSource Started(int key) => started.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            TaskCompletionSource<long> Fired(int key) => fired.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            var definition = Aggregation.For<int>()
                .Fetch("hangs", async (key, ct) =>
                {
                    ct.Register(() => Fired(key).TrySetResult(Stopwatch.GetTimestamp()));
                    Started(key).TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                    return "never";
                })
                .WithTimeout(TimeSpan.FromSeconds(30))
                .Build();
            b.ActorOf(AggregatorActor.Props(definition, ApproachFactory.OurSettings(b)), "hangs");
            var remote = await a.ActorSelection(new RootActorPath(Address(b)) / "user" / "hangs").ResolveOne(TimeSpan.FromSeconds(10));
            var samples = new List<double>();
            for (var key = 0; key < warmup + requests; key++)
            {
                using var cts = new CancellationTokenSource();
                var call = remote.AggregateAsync<int, string>(key, TimeSpan.FromSeconds(30), cts.Token);
                await Started(key).Task.WaitAsync(TimeSpan.FromSeconds(10));
                var sent = Stopwatch.GetTimestamp();
                await cts.CancelAsync();
                var firedAt = await Fired(key).Task.WaitAsync(TimeSpan.FromSeconds(10));
                try { await call; } catch (OperationCanceledException) { }
                if (key >= warmup) samples.Add(Stopwatch.GetElapsedTime(sent, firedAt).TotalMicroseconds);
            }
            return samples.ToArray();
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate());
        }
    }

    private static Address Address(ActorSystem system) => ((ExtendedActorSystem)system).Provider.DefaultAddress;
}
