using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Harness;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// Tail latency: one fetcher whose latency has a heavy tail (1 call in 20 is ten times slower, as a downstream service
/// with a slow replica or a GC pause is), next to a plain one, on one aggregator; without hedging, hedged after a fixed
/// delay, and hedged after the fetcher's observed p95. Each attempt draws slow or fast on its own, so a hedge of a slow call
/// is usually fast. The figures are the whole requests' latencies and the extra fetch calls the hedges cost.
/// </summary>
public static class HedgingExperiments
{
    private const int Callers = 32;
    private const int Rounds = 3;
    private const int SlowOneIn = 20;
    private static readonly TimeSpan BaseLatency = TimeSpan.FromMilliseconds(4);
    private static readonly TimeSpan SlowLatency = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan FixedDelay = TimeSpan.FromMilliseconds(8);
    private static readonly TimeSpan Warmup = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(2_000);
    private const int MaxKeys = 1 << 20;

    /// <param name="Requests">Requests sent in the window.</param>
    /// <param name="Calls">Calls of the heavy-tailed fetch for those requests, every attempt counted.</param>
    /// <param name="HedgeDelayMs">Median time from a request's first attempt to its second, as the fetch saw it; NaN without hedges.</param>
    /// <param name="HedgeDelayMinMs">The shortest such time: .NET's timers on Linux may fire up to a clock tick (4 ms here) early.</param>
    /// <param name="Lost">Their attempts that ended on their token with <see cref="CancellationCauseKind.AttemptLost"/>.</param>
    /// <param name="OtherCancelled">Their attempts that ended on their token with any other cause (none expected).</param>
    public sealed record TailReport(long Requests, long Calls, TimeSpan Window, double P50Ms, double P99Ms, double P999Ms,
        double HedgeDelayMs, double HedgeDelayMinMs, long Lost, long OtherCancelled)
    {
        public double RequestsPerSecond => Requests / Window.TotalSeconds;

        public double ExtraCallsPerRequest => (double)Calls / Requests - 1;
    }

    public static async Task TailSectionAsync(Action<string> progress, Action<string, Table> print)
    {
        progress($"tail latency: {Callers} callers, 1 call in {SlowOneIn} {SlowLatency.TotalMilliseconds:0} ms instead of {BaseLatency.TotalMilliseconds:0} ms, " +
                 $"no hedging, hedged after {FixedDelay.TotalMilliseconds:0} ms, hedged at p95, {Rounds} interleaved rounds");
        var cells = new (string Label, HedgingPolicy? Policy)[]
        {
            ("no hedging", null),
            ($"HedgingPolicy.After({FixedDelay.TotalMilliseconds:0} ms)", HedgingPolicy.After(FixedDelay)),
            ("HedgingPolicy.AtPercentile(0.95)", HedgingPolicy.AtPercentile(0.95)),
        };
        var reports = cells.Select(_ => new List<TailReport>()).ToArray();
        for (var round = 0; round < Rounds; round++)
            for (var i = 0; i < cells.Length; i++)
            {
                var report = await TailAsync(cells[i].Policy, seed: round * cells.Length + i);
                reports[i].Add(report);
                progress($"  {cells[i].Label,-34} {report.RequestsPerSecond,8:N0} req/s p50 {report.P50Ms,5:0.0} p99 {report.P99Ms,5:0.0} " +
                         $"p99.9 {report.P999Ms,5:0.0} ms, {report.ExtraCallsPerRequest,6:0.000} extra calls/request, " +
                         $"hedge after {report.HedgeDelayMs:0.0} ms (min {report.HedgeDelayMinMs:0.0}), " +
                         $"{(double)report.Lost / report.Requests:0.000} lost attempts/request, {report.OtherCancelled} cancelled otherwise");
            }
        var table = new Table("hedging", "requests/s", "p50 ms", "p99 ms", "p99.9 ms", "extra calls per request", "hedge started after (median)");
        for (var i = 0; i < cells.Length; i++)
        {
            // Each figure's own median over the rounds: a round's p99.9 rests on a dozen requests, and the rounds differ.
            double Median(Func<TailReport, double> figure) => reports[i].Select(figure).Order().ElementAt(Rounds / 2);
            var delay = Median(r => r.HedgeDelayMs);
            table.Add(cells[i].Label, Median(r => r.RequestsPerSecond), Median(r => r.P50Ms).ToString("0.0"), Median(r => r.P99Ms).ToString("0.0"),
                Median(r => r.P999Ms).ToString("0.0"), Median(r => r.ExtraCallsPerRequest).ToString("0.000"),
                double.IsNaN(delay) ? "-" : delay.ToString("0.0") + " ms");
        }
        print($"Tail latency: {Callers} concurrent callers (AggregateAsync in a loop), fan-out 2, one aggregator; one fetch takes " +
              $"{BaseLatency.TotalMilliseconds:0} ms, 1 call in {SlowOneIn} {SlowLatency.TotalMilliseconds:0} ms (drawn per attempt), the other " +
              $"{BaseLatency.TotalMilliseconds:0} ms; median of {Rounds} interleaved rounds, each figure on its own " +
              $"({Window.TotalSeconds:0.0} s window after {Warmup.TotalSeconds:0.0} s warm-up)", table);
    }

    /// <summary>One cell: <see cref="Callers"/> loops each awaiting one request after another, for the warm-up and the window.</summary>
    public static async Task<TailReport> TailAsync(HedgingPolicy? hedging, int seed)
    {
        var system = BenchSystem.Create();
        try
        {
            var random = new Random(seed);
            // Counted by request key, so that the window's requests and their own calls match exactly: a request counts when
            // it was sent inside the window, with every call made for it, even after the window.
            var calls = new int[MaxKeys];
            var lost = new int[MaxKeys];
            var otherCancelled = new int[MaxKeys];
            var firstStarted = new ConcurrentDictionary<string, long>();
            var hedgeDelays = new ConcurrentQueue<(int Key, double Ms)>();
            async Task<string> Tail(FetchContext<int> context)
            {
                var started = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref calls[context.Key]);
                if (context.Attempt > (hedging?.MaxAttempts ?? 1))
                    throw new InvalidOperationException($"attempt {context.Attempt} of at most {hedging?.MaxAttempts ?? 1}");
                if (context.Attempt == 1) firstStarted[context.RequestId] = started;
                else if (firstStarted.TryGetValue(context.RequestId, out var first))
                    hedgeDelays.Enqueue((context.Key, Stopwatch.GetElapsedTime(first, started).TotalMilliseconds));
                bool slow;
                lock (random) slow = random.Next(SlowOneIn) == 0;
                try
                {
                    await Task.Delay(slow ? SlowLatency : BaseLatency, context.CancellationToken);
                    return "t";
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref context.Cause?.Kind == CancellationCauseKind.AttemptLost ? ref lost[context.Key] : ref otherCancelled[context.Key]);
                    throw;
                }
                finally
                {
                    if (context.Attempt == 1) firstStarted.TryRemove(context.RequestId, out _);
                }
            }
            async Task<string> Plain(int key, CancellationToken ct)
            {
                await Task.Delay(BaseLatency, ct);
                return "p";
            }
            var builder = Aggregation.For<int>()
                .Fetch("tail", Tail, new FetchOptions { Hedging = hedging })
                .Fetch("plain", Plain)
                .WithTimeout(TimeSpan.FromSeconds(30));
            var settings = AggregationSettings.Create(system).WithMaxInFlight(0);
            var aggregator = system.ActorOf(AggregatorActor.Props(builder.Build(), settings), "tail");

            var next = 0;
            var measuring = false;
            var stop = false;
            var latencies = new List<(int Key, double Ms)>[Callers];
            async Task CallerAsync(int caller)
            {
                var mine = latencies[caller] = [];
                while (!Volatile.Read(ref stop))
                {
                    var key = Interlocked.Increment(ref next);
                    if (key >= MaxKeys) throw new InvalidOperationException($"more than {MaxKeys} requests in one cell");
                    var inWindow = Volatile.Read(ref measuring);
                    var sent = Stopwatch.GetTimestamp();
                    var reply = await aggregator.AggregateAsync<int, string>(key);
                    if (reply != "t | p") throw new InvalidOperationException($"unexpected result {reply}");
                    if (inWindow) mine.Add((key, Stopwatch.GetElapsedTime(sent).TotalMilliseconds));
                }
            }
            var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(() => CallerAsync(c))).ToArray();
            // Measurement windows, not synchronisation: the callers run freely meanwhile.
            await Task.Delay(Warmup);
            var started = Stopwatch.GetTimestamp();
            Volatile.Write(ref measuring, true);
            await Task.Delay(Window);
            Volatile.Write(ref measuring, false);
            var window = Stopwatch.GetElapsedTime(started);
            Volatile.Write(ref stop, true);
            await Task.WhenAll(callers);
            // Losing attempts end on their token after the reply: give them a moment before they are counted.
            await Task.Delay(SlowLatency * 2);
            var all = latencies.SelectMany(l => l).ToArray();
            var keys = all.Select(r => r.Key).ToHashSet();
            var ms = all.Select(r => r.Ms).ToArray();
            var delays = hedgeDelays.Where(d => keys.Contains(d.Key)).Select(d => d.Ms).ToArray();
            return new TailReport(all.Length, keys.Sum(k => (long)Volatile.Read(ref calls[k])), window,
                Percentiles.Of(ms, 50), Percentiles.Of(ms, 99), Percentiles.Of(ms, 99.9),
                Percentiles.Of(delays, 50), delays.DefaultIfEmpty(double.NaN).Min(),
                keys.Sum(k => (long)Volatile.Read(ref lost[k])), keys.Sum(k => (long)Volatile.Read(ref otherCancelled[k])));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
