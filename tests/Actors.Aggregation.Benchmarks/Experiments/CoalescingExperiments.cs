using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Harness;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// Hot keys: many callers at once asking for a few keys, as a popular profile or a retry storm does, on one aggregator with
/// and without <c>WithCoalescing()</c>; and the same with every key distinct, where coalescing has nothing to share and
/// shows what it costs. Each fetch takes a few milliseconds, as a downstream call does, so that runs overlap.
/// </summary>
public static class CoalescingExperiments
{
    private const int Callers = 256;
    private const int HotKeys = 4;
    private const int Rounds = 3;
    private static readonly TimeSpan FetchLatency = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan Warmup = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(1_500);

    public sealed record HotKeyReport(long Requests, long Fetches, TimeSpan Window, double P50Ms, double P99Ms)
    {
        public double RequestsPerSecond => Requests / Window.TotalSeconds;

        public double FetchesPerRequest => (double)Fetches / Requests;
    }

    public static async Task HotKeySectionAsync(Action<string> progress, Action<string, Table> print)
    {
        progress($"hot keys: {Callers} callers, {HotKeys} hot keys or every key distinct, with and without coalescing, {Rounds} interleaved rounds");
        var cells = new (string Keys, bool Hot, bool Coalescing)[]
        {
            ($"{HotKeys} hot keys", true, false),
            ($"{HotKeys} hot keys", true, true),
            ("every key distinct", false, false),
            ("every key distinct", false, true),
        };
        var reports = cells.Select(_ => new List<HotKeyReport>()).ToArray();
        for (var round = 0; round < Rounds; round++)
            for (var i = 0; i < cells.Length; i++)
            {
                var report = await HotKeyAsync(cells[i].Hot, cells[i].Coalescing);
                reports[i].Add(report);
                progress($"  {cells[i].Keys,-20} coalescing {(cells[i].Coalescing ? "on " : "off")} {report.RequestsPerSecond,10:N0} req/s " +
                         $"{report.FetchesPerRequest,6:0.000} fetches/request");
            }
        var table = new Table("keys", "coalescing", "requests/s", "fetches started per request", "p50 ms", "p99 ms", "vs off");
        for (var i = 0; i < cells.Length; i++)
        {
            var median = reports[i].OrderBy(r => r.RequestsPerSecond).ElementAt(Rounds / 2);
            var off = reports[i - (cells[i].Coalescing ? 1 : 0)].OrderBy(r => r.RequestsPerSecond).ElementAt(Rounds / 2);
            table.Add(cells[i].Keys, cells[i].Coalescing ? "WithCoalescing()" : "off", median.RequestsPerSecond, median.FetchesPerRequest.ToString("0.000"),
                median.P50Ms.ToString("0.0"), median.P99Ms.ToString("0.0"), Units.Ratio(median.RequestsPerSecond / off.RequestsPerSecond));
        }
        print($"Hot keys: {Callers} concurrent callers (AggregateAsync in a loop), fan-out 2, each fetch {FetchLatency.TotalMilliseconds:0} ms; " +
              $"one aggregator; median of {Rounds} interleaved rounds ({Window.TotalSeconds:0.0} s window after {Warmup.TotalSeconds:0.0} s warm-up)", table);
    }

    /// <summary>One cell: <see cref="Callers"/> loops each awaiting one request after another, for the warm-up and the window.</summary>
    public static async Task<HotKeyReport> HotKeyAsync(bool hotKeys, bool coalescing)
    {
        var system = BenchSystem.Create();
        try
        {
            long fetches = 0;
            async Task<string> Fetch(int key, CancellationToken ct)
            {
                Interlocked.Increment(ref fetches);
                await Task.Delay(FetchLatency, ct);
                return "p";
            }
            var builder = Aggregation.For<int>().Fetch("profile", Fetch).Fetch("orders", Fetch).WithTimeout(TimeSpan.FromSeconds(30));
            if (coalescing) builder = builder.WithCoalescing();
            var settings = AggregationSettings.Create(system).WithMaxInFlight(0);
            var aggregator = system.ActorOf(AggregatorActor.Props(builder.Build(), settings), "hot-keys");

            var next = 0;
            var measuring = false;
            var stop = false;
            long requests = 0;
            var latencies = new List<double>[Callers];
            async Task CallerAsync(int caller)
            {
                var random = new Random(caller);
                var mine = latencies[caller] = [];
                while (!Volatile.Read(ref stop))
                {
                    var key = hotKeys ? random.Next(HotKeys) : Interlocked.Increment(ref next);
                    var sent = Stopwatch.GetTimestamp();
                    var reply = await aggregator.AggregateAsync<int, string>(key);
                    if (reply != "p | p") throw new InvalidOperationException($"unexpected result {reply}");
                    if (!Volatile.Read(ref measuring)) continue;
                    Interlocked.Increment(ref requests);
                    mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                }
            }
            var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(() => CallerAsync(c))).ToArray();
            // Measurement windows, not synchronisation: the callers run freely meanwhile.
            await Task.Delay(Warmup);
            var fetchesBefore = Interlocked.Read(ref fetches);
            var started = Stopwatch.GetTimestamp();
            Volatile.Write(ref measuring, true);
            await Task.Delay(Window);
            Volatile.Write(ref measuring, false);
            var window = Stopwatch.GetElapsedTime(started);
            var measuredRequests = Interlocked.Read(ref requests);
            var measuredFetches = Interlocked.Read(ref fetches) - fetchesBefore;
            Volatile.Write(ref stop, true);
            await Task.WhenAll(callers);
            var all = latencies.SelectMany(l => l).ToArray();
            return new HotKeyReport(measuredRequests, measuredFetches, window, Percentiles.Of(all, 50), Percentiles.Of(all, 99));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
