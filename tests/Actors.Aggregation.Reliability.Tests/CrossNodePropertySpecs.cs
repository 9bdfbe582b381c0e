using System.Diagnostics;
using Actors.Aggregation.Reliability.Tests.Model;
using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Akka.Configuration;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Reliability.Tests;

/// <summary>
/// The property across nodes: requests from node A go through a front to aggregators on a worker node over Akka.Remote
/// TCP on 127.0.0.1, and the worker may go silent, drop everything for a moment and heal, or shut down, at a generated
/// time among the requests' own events. Every request still gets exactly one answer (the model's, when the worker could
/// run it and its reply could cross; else the node's loss or the deadline), and nothing is left running on either node.
/// Iterations: <c>AGGREGATION_CROSS_NODE_ITER</c> (default 100); a failing seed replays with <c>CsCheck_Seed</c>.
/// </summary>
public sealed class CrossNodePropertySpecs : ReliabilitySpec, IDisposable
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("AGGREGATION_CROSS_NODE_ITER"), out var n) ? n : 100;

    /// <summary>Scenarios in flight at once, each with a worker node of its own.</summary>
    private const int Concurrency = 8;

    /// <summary>
    /// Both nodes: the throttler transport (to drop everything between them), remote DeathWatch giving a silent node up
    /// after about a second (well above a blip's 600 ms at most), and strict serialization: the library's messages through
    /// its serializer, the scenario's key through <see cref="RequestRunSerializer"/>.
    /// </summary>
    private static readonly Config NodeConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = ERROR
        akka.remote.log-remote-lifecycle-events = off
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.remote.dot-netty.tcp.applied-adapters = [trttl]
        akka.remote.watch-failure-detector.heartbeat-interval = 200ms
        akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 1s
        akka.remote.watch-failure-detector.unreachable-nodes-reaper-interval = 200ms
        akka.actor.serialization-settings.allow-unregistered-types = off
        akka.actor.serializers.request-run = "Actors.Aggregation.Reliability.Tests.Model.RequestRunSerializer, Actors.Aggregation.Reliability.Tests"
        akka.actor.serialization-bindings {
          "Actors.Aggregation.Reliability.Tests.Model.RequestRun, Actors.Aggregation.Reliability.Tests" = request-run
        }
        """).WithFallback(ReliabilityConfig).WithFallback(AggregationSettings.DefaultConfig());

    private readonly UnobservedTaskExceptions _unobserved = new();
    private readonly DeadLetterLog _deadLetters;

    public CrossNodePropertySpecs(ITestOutputHelper output) : base(output, NodeConfig)
    {
        _deadLetters = new DeadLetterLog(Sys);
    }

    [Fact]
    public async Task Every_request_across_nodes_must_get_exactly_one_answer_whatever_happens_to_the_node_and_leave_nothing_running()
    {
        await using var stalls = new StallMonitor();
        var runner = new CrossNodeRunner(Sys, () => ActorSystem.Create("worker", NodeConfig),
            _deadLetters, _unobserved, new Definitions(), quietMargin: Generous, stalls);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await NodeFaultGenerators.Scenario.SampleAsync(runner.RunAsync, Output.WriteLine, iter: Iterations, threads: Concurrency, print: s => s.ToString());
        }
        finally
        {
            Output.WriteLine(stalls.Describe());
            Output.WriteLine($"scenarios run again after a stall of the whole process: {runner.Voided.Count}");
            foreach (var voided in runner.Voided) Output.WriteLine(voided);
        }

        Output.WriteLine($"{Iterations} scenarios, {runner.Requests} requests in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s; {runner.Describe()}");
        // A connection closed under DotNetty's feet (a node shut down, a worker terminated) leaves a faulted task of the
        // transport's own unobserved: Akka.Remote's, not the library's; counted, not failed.
        var unobserved = _unobserved.Collect();
        var transports = unobserved.Count(UnobservedTaskExceptions.IsTransports);
        Output.WriteLine($"unobserved task exceptions of the DotNetty transport tolerated: {transports}");
        var ours = unobserved.Where(e => !UnobservedTaskExceptions.IsTransports(e)).ToList();
        Assert.True(ours.Count == 0, $"unobserved task exceptions: {string.Join("; ", ours.Select(e => e.ToString()))}");
        Assert.True(runner.Requests >= Iterations, "every scenario has at least one request");
    }

    public new void Dispose()
    {
        _unobserved.Dispose();
        base.Dispose();
    }
}
