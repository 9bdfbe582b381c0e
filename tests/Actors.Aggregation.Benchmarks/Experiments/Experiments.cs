using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>The measurements, each in a fresh actor system so no approach inherits another's garbage or actors.</summary>
public static class Experiments
{
    /// <summary>Requests/s, µs and bytes per request at a steady <paramref name="inFlight"/>, fetches completing at once.</summary>
    public static async Task<LoadReport> ThroughputAsync(ApproachKind kind, int fanOut, int inFlight, TimeSpan warmup, TimeSpan measure,
        Func<ActorSystem, Workload, IApproach>? create = null)
    {
        var system = BenchSystem.Create();
        try
        {
            var workload = Workload.Instant(fanOut);
            var approach = create?.Invoke(system, workload) ?? ApproachFactory.Create(kind, system, workload);
            var expected = Workload.ExpectedInstantResult(fanOut);
            return await system.DriveAsync(approach, new LoadPlan(inFlight)
            {
                Warmup = warmup,
                Measure = measure,
                Expected = reply => reply is AggregateSucceeded<string> ok && ok.Result == expected,
            });
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// Bytes retained per request in flight: <paramref name="inFlight"/> requests are started at once on fetches that wait on a
    /// gate; once every fetch has started, the live heap is compared with the heap before the requests. Then the gate opens
    /// and every request must succeed.
    /// </summary>
    public static async Task<RetainedReport> RetainedAsync(ApproachKind kind, int fanOut, int inFlight)
    {
        var system = BenchSystem.Create();
        try
        {
            var gate = new Gate();
            var approach = ApproachFactory.Create(kind, system, Workload.Gated(fanOut, gate));

            // Warm-up round: JIT, lazily built statics and pools are paid before the baseline.
            await RoundAsync(1_000, settle: false);
            gate.Rearm();

            var before = BenchSystem.LiveHeapBytes();
            var measured = await RoundAsync(inFlight, settle: true);
            return new RetainedReport(inFlight, (measured.Heap - before) / (double)inFlight, measured.Report);

            async Task<(long Heap, LoadReport Report)> RoundAsync(int requests, bool settle)
            {
                var run = system.DriveAsync(approach, new LoadPlan(requests)
                {
                    TotalRequests = requests,
                    Expected = reply => reply is AggregateSucceeded<string>,
                }, TimeSpan.FromMinutes(5));
                var allStarted = gate.WhenStarted(requests * fanOut);
                var first = await Task.WhenAny(allStarted, run, Task.Delay(TimeSpan.FromMinutes(2)));
                if (first == run) await run; // surfaces a failure
                else if (first != allStarted)
                    throw new TimeoutException($"{kind}: only {gate.Started} of {requests * fanOut} fetches started");
                long heap = 0;
                if (settle)
                {
                    // Measurement quiescence, not synchronisation: every fetch has started and is parked; give the last
                    // continuations and mailbox runs a moment to return before the heap is read.
                    await Task.Delay(200);
                    heap = BenchSystem.LiveHeapBytes();
                }
                gate.Open();
                return (heap, await run);
            }
        }
        finally
        {
            await system.Terminate();
        }
    }

    public sealed record RetainedReport(int InFlight, double BytesPerRequest, LoadReport Load);

    /// <summary>
    /// Per failing request (the last of <paramref name="fanOut"/> fetchers fails after one hop, the others hang on their token):
    /// µs from the failure being thrown to the last sibling's token firing.
    /// </summary>
    public static async Task<LatencyReport> SiblingCancellationAsync(ApproachKind kind, int fanOut, int requests, int inFlight, int warmup)
    {
        var system = BenchSystem.Create();
        try
        {
            var probe = new SiblingProbe(warmup + requests, fanOut - 1);
            var workload = Workload.LastFails(fanOut, probe);
            var failing = workload.Names[^1];
            var approach = ApproachFactory.Create(kind, system, workload);
            var report = await system.DriveAsync(approach, new LoadPlan(inFlight)
            {
                TotalRequests = warmup + requests,
                Expected = reply => reply is AggregateFailed { Reason: FetcherFailed f } && f.Fetcher == failing,
            });
            try
            {
                await probe.WhenAllCancelled.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{kind}: some siblings' tokens never fired");
            }
            return new LatencyReport(probe.MicrosecondsToLastSibling(warmup, warmup + requests), report);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// Every request's fetchers hang (honouring their token) past <paramref name="deadline"/>; per request, the µs between the
    /// deadline (measured from the requester's send) and the reply's arrival at the requester.
    /// </summary>
    public static async Task<LatencyReport> DeadlineOvershootAsync(ApproachKind kind, int fanOut, TimeSpan deadline, int requests, int inFlight, int warmup)
    {
        var system = BenchSystem.Create();
        try
        {
            var approach = ApproachFactory.Create(kind, system, Workload.Hanging(fanOut, deadline));
            var overshoot = new double[requests];
            var report = await system.DriveAsync(approach, new LoadPlan(inFlight)
            {
                TotalRequests = warmup + requests,
                Expected = reply => reply is AggregateFailed { Reason: DeadlineExceeded },
                OnReply = (key, _, sent, received) =>
                {
                    if (key >= warmup) overshoot[key - warmup] = (Stopwatch.GetElapsedTime(sent, received) - deadline).TotalMicroseconds;
                },
            });
            return new LatencyReport(overshoot, report);
        }
        finally
        {
            await system.Terminate();
        }
    }

    public sealed record LatencyReport(double[] Microseconds, LoadReport Load)
    {
        public double P50 => Percentiles.Of(Microseconds, 50);

        public double P99 => Percentiles.Of(Microseconds, 99);

        public double Max => Microseconds.Length == 0 ? double.NaN : Microseconds.Max();
    }
}
