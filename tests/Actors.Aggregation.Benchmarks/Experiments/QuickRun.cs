using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// The --quick mode: every figure of the benchmark in one process run, the four approaches side by side, in well under three
/// minutes on two cores. Tables go to stdout as each section finishes (progress to stderr); the last line is the summary
/// with the ratios and the verdict on every target.
/// </summary>
public static class QuickRun
{
    private static readonly int[] FanOuts = [1, 2, 10, 100];
    private const int InFlight = 1_000;
    private static readonly TimeSpan Warmup = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(1_000);

    // The performance targets, measured, never loosened.
    private const double TargetVsHandWritten = 1.5;
    private const double TargetVsFloor = 0.15;
    private const double TargetAllocatedBytes = 12 * 1024;
    private const double TargetRetainedBytes = 5 * 1024;
    private const double TargetSiblingP99Us = 2_000;
    private const double TargetOvershootP99Us = 25_000;
    private const double TargetPerFetcherSpread = 0.25;

    // Ours at fan-out 2 in the throughput section, when it ran: the telemetry section's no-listener row is the same cell.
    private static double? _oursFanOut2BytesPerRequest;

    public static async Task<int> RunAsync(string[] sections)
    {
        bool Wants(string section) => sections.Length == 0 || sections.Contains(section, StringComparer.OrdinalIgnoreCase);
        var clock = Stopwatch.StartNew();
        var verdicts = new List<string>();
        Console.WriteLine($"Actors.Aggregation benchmark, --quick: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, " +
                          $"{RuntimeInformation.OSDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, {BuildConfiguration}, " +
                          $"load average {LoadAverage()} at start");
        Console.WriteLine();

        // JIT and tiered compilation: every approach's code runs hot before the first measured cell.
        Progress("warm-up: every approach at fan-out 2 and 10, not measured");
        foreach (var kind in ApproachFactory.All)
        foreach (var fanOut in new[] { 2, 10 })
            await Experiments.ThroughputAsync(kind, fanOut, InFlight, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100));

        if (Wants("throughput")) verdicts.AddRange(await ThroughputSectionAsync());
        if (Wants("pool")) await PoolSectionAsync();
        if (Wants("retained") || Wants("retained-all"))
            verdicts.Add(await RetainedSectionAsync(Wants("retained-all") && sections.Length > 0 ? ApproachFactory.All : [ApproachKind.Floor, ApproachKind.Ours]));
        if (Wants("siblings")) verdicts.Add(await SiblingSectionAsync());
        if (Wants("deadline")) verdicts.Add(await DeadlineSectionAsync());
        if (Wants("scaling")) verdicts.Add(await ScalingSectionAsync());
        if (Wants("nodes")) await NodesSectionAsync();
        if (Wants("hotkey")) await CoalescingExperiments.HotKeySectionAsync(Progress, Print);
        if (Wants("tail")) await HedgingExperiments.TailSectionAsync(Progress, Print);
        if (Wants("telemetry")) await TelemetryExperiments.TelemetrySectionAsync(Progress, Print, InFlight, Warmup, Window, _oursFanOut2BytesPerRequest);

        Console.WriteLine($"(measured in {clock.Elapsed.TotalSeconds:0} s)");
        Console.WriteLine();
        Console.WriteLine("SUMMARY " + string.Join("; ", verdicts) +
                          $"; {verdicts.Count(v => v.EndsWith(": met)", StringComparison.Ordinal))}/{verdicts.Count} targets met; load average {LoadAverage()}");
        return 0;
    }

    private static async Task<IEnumerable<string>> ThroughputSectionAsync()
    {
        Progress($"throughput: {FanOuts.Length} fan-outs x {ApproachFactory.All.Length} approaches, {InFlight:N0} in flight");
        var table = new Table("fan-out", "approach", "requests/s", "µs/request", "bytes/request", "vs floor", "vs hand-written Akka");
        var verdicts = new List<string>();
        foreach (var fanOut in FanOuts)
        {
            // Fan-out 2 carries the targets: five interleaved rounds, median kept (the machine is shared and noisy). Others: one.
            var rounds = fanOut == 2 ? 5 : 1;
            var results = ApproachFactory.All.ToDictionary(k => k, _ => new List<LoadReport>());
            for (var round = 0; round < rounds; round++)
                foreach (var kind in ApproachFactory.All)
                {
                    var report = await Experiments.ThroughputAsync(kind, fanOut, InFlight, Warmup, Window);
                    Check(report, $"{kind} fan-out {fanOut}");
                    results[kind].Add(report);
                    Progress($"  fan-out {fanOut,3} {ApproachFactory.Label(kind),-24} {report.RequestsPerSecond,10:N0} req/s {report.BytesPerRequest,9:N0} B/req");
                }
            var median = results.ToDictionary(r => r.Key, r => r.Value.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Value.Count / 2));
            var floor = median[ApproachKind.Floor];
            var handWritten = median[ApproachKind.HandWrittenAkka];
            foreach (var kind in ApproachFactory.All)
            {
                var r = median[kind];
                table.Add(fanOut, ApproachFactory.Label(kind), r.RequestsPerSecond, r.MicrosecondsPerRequest, r.BytesPerRequest,
                    Units.Ratio(r.RequestsPerSecond / floor.RequestsPerSecond), Units.Ratio(r.RequestsPerSecond / handWritten.RequestsPerSecond));
            }
            if (fanOut == 2)
            {
                var ours = median[ApproachKind.Ours];
                var vsHand = ours.RequestsPerSecond / handWritten.RequestsPerSecond;
                var vsFloor = ours.RequestsPerSecond / floor.RequestsPerSecond;
                verdicts.Add(Verdict($"fan-out 2 ours/hand-written {Units.Ratio(vsHand)}", $">= {TargetVsHandWritten}x", vsHand >= TargetVsHandWritten));
                verdicts.Add(Verdict($"ours/floor {Units.Ratio(vsFloor)}", $">= {TargetVsFloor}x", vsFloor >= TargetVsFloor));
                verdicts.Add(Verdict($"allocated {Units.Kb(ours.BytesPerRequest)}/req", "<= 12 KB", ours.BytesPerRequest <= TargetAllocatedBytes));
                _oursFanOut2BytesPerRequest = ours.BytesPerRequest;
            }
        }
        Print($"Throughput: fetches complete at once, {InFlight:N0} requests in flight from one driver actor " +
              $"(median of 5 interleaved rounds at fan-out 2, 1 round otherwise; {Window.TotalSeconds:0.0} s window after {Warmup.TotalSeconds:0.0} s warm-up)", table);
        return verdicts;
    }

    private static async Task PoolSectionAsync()
    {
        Progress("one aggregator vs a pool, fan-out 2");
        var table = new Table("in flight", "front door", "requests/s", "µs/request", "bytes/request", "vs one aggregator");
        var routees = Math.Max(2, Environment.ProcessorCount);
        foreach (var inFlight in new[] { 1_000, 10_000 })
        {
            var single = await Experiments.ThroughputAsync(ApproachKind.Ours, 2, inFlight, Warmup, Window);
            Check(single, $"one aggregator at {inFlight}");
            table.Add(inFlight, "one AggregatorActor", single.RequestsPerSecond, single.MicrosecondsPerRequest, single.BytesPerRequest, Units.Ratio(1));
            var hashed = await Experiments.ThroughputAsync(ApproachKind.Ours, 2, inFlight, Warmup, Window,
                (system, workload) => ApproachFactory.CreateOursPool(system, workload, routees));
            Check(hashed, $"consistent-hash pool at {inFlight}");
            table.Add(inFlight, $"consistent-hash pool of {routees} (by RequestId)", hashed.RequestsPerSecond, hashed.MicrosecondsPerRequest,
                hashed.BytesPerRequest, Units.Ratio(hashed.RequestsPerSecond / single.RequestsPerSecond));
            var roundRobin = await Experiments.ThroughputAsync(ApproachKind.Ours, 2, inFlight, Warmup, Window,
                (system, workload) => ApproachFactory.CreateOursRoundRobin(system, workload, routees));
            Check(roundRobin, $"round-robin pool at {inFlight}");
            table.Add(inFlight, $"round-robin pool of {routees}", roundRobin.RequestsPerSecond, roundRobin.MicrosecondsPerRequest,
                roundRobin.BytesPerRequest, Units.Ratio(roundRobin.RequestsPerSecond / single.RequestsPerSecond));
            Progress($"  {inFlight,6} in flight: one {single.RequestsPerSecond:N0}, hashed {hashed.RequestsPerSecond:N0}, round-robin {roundRobin.RequestsPerSecond:N0} req/s");
        }
        Print("One aggregator vs a pool behind one ref: ours, fan-out 2, fetches complete at once", table);
    }

    /// <summary>
    /// Local, another node, a front over 1, 2 and 4 aggregators; a cancel crossing nodes; and a worker node killed under a
    /// cluster front. Figures, no targets.
    /// </summary>
    private static async Task NodesSectionAsync()
    {
        Progress("across nodes: local, remote, and a front over 1, 2 and 4 aggregators, fan-out 2, three interleaved rounds");
        var doors = new (string Label, Func<Task<LoadReport>> Measure)[]
        {
            ("one local AggregatorActor", () => Experiments.ThroughputAsync(ApproachKind.Ours, 2, InFlight, Warmup, Window)),
            ("an aggregator on another node (TCP, 127.0.0.1)", () => NodeExperiments.RemoteThroughputAsync(2, InFlight, Warmup, Window)),
            ("AggregatorFront.Pool of 1", () => Experiments.ThroughputAsync(ApproachKind.Ours, 2, InFlight, Warmup, Window, (s, w) => NodeExperiments.Front(s, w, 1))),
            ("AggregatorFront.Pool of 2", () => Experiments.ThroughputAsync(ApproachKind.Ours, 2, InFlight, Warmup, Window, (s, w) => NodeExperiments.Front(s, w, 2))),
            ("AggregatorFront.Pool of 4", () => Experiments.ThroughputAsync(ApproachKind.Ours, 2, InFlight, Warmup, Window, (s, w) => NodeExperiments.Front(s, w, 4))),
        };
        var reports = doors.Select(_ => new List<LoadReport>()).ToArray();
        for (var round = 0; round < 3; round++)
            for (var i = 0; i < doors.Length; i++)
            {
                var report = await doors[i].Measure();
                Check(report, doors[i].Label);
                reports[i].Add(report);
                Progress($"  {doors[i].Label,-48} {report.RequestsPerSecond,10:N0} req/s {report.BytesPerRequest,9:N0} B/req");
            }
        var medians = reports.Select(r => r.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Count / 2)).ToArray();
        var table = new Table("front door", "requests/s", "µs/request", "bytes/request", "vs local");
        for (var i = 0; i < doors.Length; i++)
            table.Add(doors[i].Label, medians[i].RequestsPerSecond, medians[i].MicrosecondsPerRequest, medians[i].BytesPerRequest,
                Units.Ratio(medians[i].RequestsPerSecond / medians[0].RequestsPerSecond));
        Print($"Across nodes: ours, fan-out 2, {InFlight:N0} in flight, fetches complete at once (both nodes in this process; median of 3 interleaved rounds)", table);

        var cancels = await NodeExperiments.CancelAcrossNodesAsync(requests: 200, warmup: 20);
        var latency = new Table("cancel crossing nodes", "p50", "p99", "max", "samples");
        latency.Add("CancelAggregate on node A -> the fetch's token on node B", Units.Ms(Percentiles.Of(cancels, 50)), Units.Ms(Percentiles.Of(cancels, 99)),
            Units.Ms(cancels.Max()), cancels.Length);
        Print("A cancel crossing nodes (a cancelled AggregateAsync token on A, the fetch's token firing on B)", latency);

        await NodeKilledAsync();
    }

    /// <summary>Time from a worker node's kill to the requester's answer, NodeFailed, with fail-on-unreachable off and on, interleaved.</summary>
    private static async Task NodeKilledAsync()
    {
        const int rounds = 3;
        Progress($"a node killed: {rounds} rounds x fail-on-unreachable off and on, {NodeExperiments.KillRequests} requests running on a worker process");
        var settings = new (string Label, bool FailOnUnreachable)[]
        {
            ("fail-on-unreachable = off (default): when the resolver downs the node", false),
            ("fail-on-unreachable = on: when the node is unreachable", true),
        };
        var samples = settings.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var i = 0; i < settings.Length; i++)
            {
                var answers = await NodeExperiments.KillToAnswerAsync(settings[i].FailOnUnreachable);
                samples[i].AddRange(answers);
                Progress($"  fail-on-unreachable {(settings[i].FailOnUnreachable ? "on " : "off")}, round {round + 1}: " +
                         $"answered {Units.Ms(answers.Min())} to {Units.Ms(answers.Max())} after the kill");
            }
        var table = new Table("NodeFailed at the requester", "min", "median", "max", "answers");
        for (var i = 0; i < settings.Length; i++)
        {
            var all = samples[i].ToArray();
            table.Add(settings[i].Label, Units.Ms(all.Min()), Units.Ms(Percentiles.Of(all, 50)), Units.Ms(all.Max()), all.Length);
        }
        Print($"A node killed: time from Process.Kill of a worker node (a child process) running {NodeExperiments.KillRequests} requests for a cluster " +
              $"front on this node to each answer at the requester (keep-oldest, stable-after 2 s; heartbeat 200 ms, acceptable pause 1 s; " +
              $"{rounds} interleaved rounds, a fresh worker and front system each)", table);
    }

    /// <summary>The quick run measures the floor and ours (the peers' 300,000 actors take half a minute); retained-all measures all four.</summary>
    private static async Task<string> RetainedSectionAsync(ApproachKind[] kinds)
    {
        const int inFlight = 100_000;
        Progress($"retained memory: {inFlight:N0} requests in flight, fan-out 2, slow fetchers");
        var table = new Table("approach", "retained/request", "vs floor");
        var results = new Dictionary<ApproachKind, double>();
        foreach (var kind in kinds)
        {
            var r = await Experiments.RetainedAsync(kind, 2, inFlight);
            Check(r.Load, $"{kind} retained");
            results[kind] = r.BytesPerRequest;
            Progress($"  {ApproachFactory.Label(kind),-24} {r.BytesPerRequest,8:N0} B retained per request");
        }
        foreach (var kind in kinds)
            table.Add(ApproachFactory.Label(kind), Units.Kb(results[kind]), Units.Ratio(results[kind] / results[ApproachKind.Floor]));
        Print($"Memory retained per in-flight request: {inFlight:N0} requests in flight at once, fan-out 2, fetches waiting on a gate " +
              "(live heap after full GCs, minus the heap before; includes the fetches' own waits)", table);
        var ours = results[ApproachKind.Ours];
        return Verdict($"retained {Units.Kb(ours)}/in-flight req", "<= 5 KB", ours <= TargetRetainedBytes);
    }

    private static async Task<string> SiblingSectionAsync()
    {
        const int fanOut = 10, requests = 10_000, inFlight = 100, warmup = 1_000;
        Progress($"sibling cancellation: {requests:N0} failing requests, fan-out {fanOut}, {inFlight} in flight");
        var table = new Table("approach", "p50", "p99", "max");
        double oursP99 = double.NaN;
        foreach (var kind in ApproachFactory.All)
        {
            var r = await Experiments.SiblingCancellationAsync(kind, fanOut, requests, inFlight, warmup);
            Check(r.Load, $"{kind} sibling cancellation");
            table.Add(ApproachFactory.Label(kind), Units.Ms(r.P50), Units.Ms(r.P99), Units.Ms(r.Max));
            if (kind == ApproachKind.Ours) oursP99 = r.P99;
            Progress($"  {ApproachFactory.Label(kind),-24} p50 {Units.Ms(r.P50)} p99 {Units.Ms(r.P99)}");
        }
        Print($"Sibling cancellation: time from the first failure until the last sibling's token fired, over {requests:N0} failing requests " +
              $"(fan-out {fanOut}: the last fetcher fails after one thread-pool hop, {fanOut - 1} siblings wait on their token; {inFlight} requests in flight)", table);
        return Verdict($"sibling-cancel p99 {Units.Ms(oursP99)}", "<= 2 ms", oursP99 <= TargetSiblingP99Us);
    }

    private static async Task<string> DeadlineSectionAsync()
    {
        const int fanOut = 2, requests = 4_000, inFlight = 200, warmup = 400;
        var deadline = TimeSpan.FromMilliseconds(50);
        Progress($"deadline overshoot: {requests:N0} requests, deadline {deadline.TotalMilliseconds} ms, {inFlight} in flight");
        var table = new Table("approach", "p50", "p99", "max");
        double oursP99 = double.NaN;
        foreach (var kind in ApproachFactory.All)
        {
            var r = await Experiments.DeadlineOvershootAsync(kind, fanOut, deadline, requests, inFlight, warmup);
            Check(r.Load, $"{kind} deadline");
            table.Add(ApproachFactory.Label(kind), Units.Ms(r.P50), Units.Ms(r.P99), Units.Ms(r.Max));
            if (kind == ApproachKind.Ours) oursP99 = r.P99;
            Progress($"  {ApproachFactory.Label(kind),-24} p50 {Units.Ms(r.P50)} p99 {Units.Ms(r.P99)}");
        }
        Print($"Deadline overshoot: reply arrival at the requester minus (send + {deadline.TotalMilliseconds} ms deadline), over {requests:N0} requests " +
              $"whose fetch never finishes (fan-out {fanOut}, {inFlight} in flight)", table);
        return Verdict($"deadline overshoot p99 {Units.Ms(oursP99)}", "<= 25 ms", oursP99 <= TargetOvershootP99Us);
    }

    private static async Task<string> ScalingSectionAsync()
    {
        // The number of fetches in flight stays at 10,000, so the heap holds the same number of live fetchers at every fan-out:
        // what changes is only how they are grouped into requests.
        const int fetchesInFlight = 10_000;
        int[] fanOuts = [10, 100, 1_000];
        Progress($"cost per fetcher: fan-out {string.Join(", ", fanOuts)}, {fetchesInFlight:N0} fetches in flight");
        var table = new Table("fan-out", "requests in flight", "approach", "ns/fetcher", "bytes/fetcher", "vs fan-out 10");
        var spread = 0.0;
        foreach (var kind in new[] { ApproachKind.Floor, ApproachKind.Ours })
        {
            double? baseline = null;
            foreach (var fanOut in fanOuts)
            {
                var r = await Experiments.ThroughputAsync(kind, fanOut, fetchesInFlight / fanOut, Warmup, Window);
                Check(r, $"{kind} scaling {fanOut}");
                var perFetcher = r.MicrosecondsPerRequest * 1000 / fanOut;
                baseline ??= perFetcher;
                var change = perFetcher / baseline.Value - 1;
                if (kind == ApproachKind.Ours) spread = Math.Max(spread, Math.Abs(change));
                table.Add(fanOut, fetchesInFlight / fanOut, ApproachFactory.Label(kind), perFetcher, r.BytesPerRequest / fanOut, Units.Pct(change));
                Progress($"  {ApproachFactory.Label(kind),-24} fan-out {fanOut,5}: {perFetcher,8:N0} ns/fetcher ({Units.Pct(change)})");
            }
        }
        Print($"Cost per fetcher as fan-out grows, {fetchesInFlight:N0} fetches in flight, fetches complete at once", table);
        return Verdict($"per-fetcher 10->1000 max {Units.Pct(spread)}", "within ±25%", spread <= TargetPerFetcherSpread);
    }

    /// <summary>The 1-minute load average: on a shared 2-core machine it says how much the figures were disturbed.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string Verdict(string figure, string target, bool met) => $"{figure} ({target}: {(met ? "met" : "missed")})";

    private static void Check(LoadReport report, string what)
    {
        if (report.Unexpected > 0)
            throw new InvalidOperationException($"{what}: {report.Unexpected} unexpected replies, the first: {report.FirstUnexpected}");
    }

    private static void Print(string title, Table table)
    {
        Console.WriteLine(title);
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine();
    }

    private static readonly Stopwatch Since = Stopwatch.StartNew();

    private static void Progress(string line) => Console.Error.WriteLine($"[{Since.Elapsed.TotalSeconds,5:0.0} s] {line}");

    private const string BuildConfiguration =
#if DEBUG
        "DEBUG build: figures are not meaningful, use -c Release";
#else
        "Release build";
#endif
}
