using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;

namespace Actors.Aggregation.Benchmarks.Profiling;

/// <summary>
/// The --profile mode: which types each approach allocates per request, from the runtime's own sampled allocation events
/// (GCAllocationTick, one event per ~100 KB allocated, carrying the type and the bytes since the previous one), read in
/// process with an <see cref="EventListener"/>: no external tool. The totals are cross-checked against
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/>.
/// </summary>
public static class AllocationProfile
{
    public static async Task<int> RunAsync(string[] args)
    {
        var fanOut = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
        var kinds = args.Length > 1 ? args[1..].Select(Enum.Parse<ApproachKind>).ToArray() : ApproachFactory.All;
        // About 600,000 fetches per approach, at most 1,000 requests (and 10,000 fetches) in flight.
        var requests = Math.Max(600, 600_000 / fanOut);
        var inFlight = Math.Clamp(10_000 / fanOut, 1, 1_000);
        using var sampler = new AllocationSampler();
        foreach (var kind in kinds)
        {
            var system = BenchSystem.Create();
            try
            {
                var approach = ApproachFactory.Create(kind, system, Workload.Instant(fanOut));
                await system.DriveAsync(approach, new LoadPlan(inFlight) { TotalRequests = requests / 3 }); // warm-up
                sampler.Start();
                var report = await system.DriveAsync(approach, new LoadPlan(inFlight) { TotalRequests = requests });
                var sampled = sampler.Stop();
                var total = sampled.Values.Sum();
                Console.WriteLine($"{ApproachFactory.Label(kind)}, fan-out {fanOut}: {report.BytesPerRequest:N0} B/request allocated " +
                                  $"(sampled: {total / (double)requests:N0} B/request), {report.MicrosecondsPerRequest:N2} µs/request");
                var table = new Table("type", "bytes/request", "share");
                foreach (var (type, bytes) in sampled.OrderByDescending(p => p.Value).Take(25))
                    table.Add(type, bytes / (double)requests, Units.Pct(bytes / (double)total).TrimStart('+'));
                Console.WriteLine(table);
            }
            finally
            {
                await system.Terminate();
            }
        }
        return 0;
    }

    private sealed class AllocationSampler : EventListener
    {
        private const int AllocationTickEventId = 10;
        private ConcurrentDictionary<string, long> _bytes = new();
        private volatile bool _recording;

        public void Start()
        {
            _bytes = new ConcurrentDictionary<string, long>();
            _recording = true;
        }

        public Dictionary<string, long> Stop()
        {
            _recording = false;
            Thread.Sleep(500); // events are dispatched asynchronously; let the last ones arrive
            return new Dictionary<string, long>(_bytes);
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1 /* GC */);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!_recording || e.EventId != AllocationTickEventId || e.Payload is null || e.PayloadNames is null) return;
            var type = e.Payload[e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
        }
    }
}
