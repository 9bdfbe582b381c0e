using System.Diagnostics;
using Actors.Aggregation.Reliability.Tests.Model;
using Actors.Aggregation.Reliability.Tests.Support;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Reliability.Tests;

/// <summary>
/// The property under <c>WithCoalescing()</c>: a group of requests for one key, each with its own deadline and perhaps a
/// cancel or a death, shares one run of generated fetchers; every requester gets exactly the reply the model predicts for
/// it, the fetchers run once for all of them, and nothing outlives the run. Iterations: <c>AGGREGATION_COALESCING_ITER</c>
/// (default 150); a failing seed replays with <c>CsCheck_Seed</c>.
/// </summary>
public sealed class CoalescingPropertySpecs : ReliabilitySpec, IDisposable
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("AGGREGATION_COALESCING_ITER"), out var n) ? n : 150;

    /// <summary>Groups in flight at once. Fewer than the plain property's: a requester's own times are half a gap from the run's events.</summary>
    private const int Concurrency = 16;

    private readonly UnobservedTaskExceptions _unobserved = new();
    private readonly DeadLetterLog _deadLetters;

    public CoalescingPropertySpecs(ITestOutputHelper output) : base(output)
    {
        _deadLetters = new DeadLetterLog(Sys);
    }

    [Fact]
    public async Task Every_coalesced_request_must_get_exactly_its_predicted_reply_while_the_fetchers_run_once()
    {
        await using var stalls = new StallMonitor();
        var runner = new CoalescedRunner(Sys, _deadLetters, _unobserved, new Definitions(coalescing: true), quietMargin: Generous, stalls);
        var started = Stopwatch.GetTimestamp();

        // Warm-up, not judged: a cold process compiles Akka's and the library's paths meanwhile (see PropertySpecs).
        for (var i = 0; i < 4; i++)
        {
            try
            {
                await runner.RunAsync(CoalescedScenario.Generator.Single());
            }
            catch (Exception e)
            {
                Output.WriteLine($"warm-up scenario failed (not judged): {e.Message}");
            }
        }

        var warm = runner.Requests;
        try
        {
            await CoalescedScenario.Generator.SampleAsync(runner.RunAsync, Output.WriteLine, iter: Iterations, threads: Concurrency, print: s => s.ToString());
        }
        finally
        {
            Output.WriteLine(stalls.Describe());
            foreach (var voided in runner.Voided) Output.WriteLine(voided);
        }

        Output.WriteLine($"{Iterations} groups, {runner.Requests - warm} requests in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s; "
            + $"expected replies (warm-up included): {runner.DescribeOutcomes()}; groups every requester left before the run decided: {runner.Abandoned}");
        // An earlier class's remoting may leave a DotNetty channel's faulted task to be finalized during this one: not ours.
        var unobserved = _unobserved.Collect().Where(e => !UnobservedTaskExceptions.IsTransports(e)).ToList();
        Assert.True(unobserved.Count == 0, $"unobserved task exceptions: {string.Join("; ", unobserved.Select(e => e.ToString()))}");
        Assert.True(runner.Requests - warm >= Iterations, "every group has at least one request");
    }

    public new void Dispose()
    {
        _unobserved.Dispose();
        base.Dispose();
    }
}
