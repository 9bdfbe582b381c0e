using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// What listening costs: the fan-out throughput cell (ours, fan-out 2, fetches complete at once) with nobody listening to
/// the library's ActivitySource and Meter, with a plain System.Diagnostics listener on both, and with the OpenTelemetry SDK
/// exporting to memory. Listeners are process-wide, so each cell's are disposed, and checked gone, before the next.
/// </summary>
public static class TelemetryExperiments
{
    private const int Rounds = 3;
    private const int FanOut = 2;

    private enum Listening
    {
        None,
        Plain,
        OpenTelemetry,
    }

    public static async Task TelemetrySectionAsync(Action<string> progress, Action<string, Table> print, int inFlight, TimeSpan warmup, TimeSpan window,
        double? throughputBytesPerRequest)
    {
        progress($"telemetry: ours, fan-out {FanOut}, no listener, a plain ActivityListener and MeterListener, the OpenTelemetry SDK; {Rounds} interleaved rounds");
        var cells = new (string Label, Listening Listening)[]
        {
            ("A. no listener", Listening.None),
            ("B. ActivityListener + MeterListener (no-op callbacks)", Listening.Plain),
            ("C. OpenTelemetry SDK, in-memory exporters", Listening.OpenTelemetry),
        };
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        // The quick run's warm-up ran no listener: the listeners' code paths run hot before the first measured round too.
        foreach (var (_, listening) in cells)
            await MeasureAsync(listening, inFlight, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100), spans, metrics);
        var reports = cells.Select(_ => new List<LoadReport>()).ToArray();
        for (var round = 0; round < Rounds; round++)
            for (var i = 0; i < cells.Length; i++)
            {
                AssertNobodyListens(cells[i].Label);
                var (report, observed) = await MeasureAsync(cells[i].Listening, inFlight, warmup, window, spans, metrics);
                if (report.Unexpected > 0)
                    throw new InvalidOperationException($"{cells[i].Label}: {report.Unexpected} unexpected replies, the first: {report.FirstUnexpected}");
                if (cells[i].Listening != Listening.None && observed == 0)
                    throw new InvalidOperationException($"{cells[i].Label}: the listener saw nothing");
                reports[i].Add(report);
                progress($"  {cells[i].Label,-54} {report.RequestsPerSecond,10:N0} req/s {report.BytesPerRequest,9:N0} B/req" +
                         (cells[i].Listening switch
                         {
                             Listening.Plain => $", {observed:N0} measurements seen",
                             Listening.OpenTelemetry => $", {observed:N0} spans exported",
                             _ => "",
                         }));
            }
        AssertNobodyListens("after the section");

        // Each figure's own median over the rounds.
        double Median(int cell, Func<LoadReport, double> figure) => reports[cell].Select(figure).Order().ElementAt(Rounds / 2);
        var baseRate = Median(0, r => r.RequestsPerSecond);
        var baseBytes = Median(0, r => r.BytesPerRequest);
        var table = new Table("listening", "requests/s", "bytes/request", "requests/s vs A", "bytes/request vs A");
        for (var i = 0; i < cells.Length; i++)
        {
            var rate = Median(i, r => r.RequestsPerSecond);
            var bytes = Median(i, r => r.BytesPerRequest);
            table.Add(cells[i].Label, rate, bytes, Units.Ratio(rate / baseRate), Units.Ratio(bytes / baseBytes));
        }
        print($"Telemetry: ours, fan-out {FanOut}, {inFlight:N0} requests in flight, fetches complete at once; the library's ActivitySource and Meter " +
              $"with no listener, with plain System.Diagnostics listeners, and with the OpenTelemetry SDK (median of {Rounds} interleaved rounds, " +
              $"each figure on its own; {window.TotalSeconds:0.0} s window after {warmup.TotalSeconds:0.0} s warm-up)", table);

        // No build of the library has its telemetry compiled out: A is the library as shipped, whose telemetry code then only
        // asks HasListeners() and Instrument.Enabled (and keeps the gauges' counts); nothing is created, tagged or recorded.
        var compared = throughputBytesPerRequest is { } elsewhere
            ? $"the throughput section of this run measured {elsewhere:N0} bytes/request for ours at fan-out {FanOut}, " +
              $"A {baseBytes:N0} ({(baseBytes / elsewhere - 1).ToString("+0.0 %;-0.0 %", CultureInfo.InvariantCulture)}: {(Math.Abs(baseBytes / elsewhere - 1) <= 0.01 ? "equal within 1 %" : "not within 1 %")})"
            : $"A measured {baseBytes:N0} bytes/request (the throughput section, which did not run here, measures the same cell)";
        Console.WriteLine("Row A is not the library with telemetry compiled out (there is no such build): with no listener, its telemetry code " +
                          $"runs its HasListeners()/Enabled checks only (and keeps the counts behind its gauges); {compared}.");
        Console.WriteLine();
    }

    /// <summary>One throughput cell under <paramref name="listening"/>; its listeners are disposed before it returns.</summary>
    private static async Task<(LoadReport Report, long Observed)> MeasureAsync(Listening listening, int inFlight, TimeSpan warmup, TimeSpan window,
        List<Activity> spans, List<Metric> metrics)
    {
        switch (listening)
        {
            case Listening.Plain:
            {
                long measurements = 0;
                using var activities = new ActivityListener
                {
                    ShouldListenTo = source => source.Name == AggregationTelemetry.ActivitySourceName,
                    Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                    ActivityStopped = static _ => { },
                };
                ActivitySource.AddActivityListener(activities);
                using var meters = new MeterListener
                {
                    InstrumentPublished = (instrument, listener) =>
                    {
                        if (instrument.Meter.Name == AggregationTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
                    },
                };
                meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
                meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
                meters.Start();
                var report = await Experiments.ThroughputAsync(ApproachKind.Ours, FanOut, inFlight, warmup, window);
                return (report, Interlocked.Read(ref measurements));
            }
            case Listening.OpenTelemetry:
            {
                LoadReport report;
                using (Sdk.CreateTracerProviderBuilder().AddSource(AggregationTelemetry.ActivitySourceName).AddInMemoryExporter(spans).Build())
                using (Sdk.CreateMeterProviderBuilder().AddMeter(AggregationTelemetry.MeterName).AddInMemoryExporter(metrics).Build())
                    report = await Experiments.ThroughputAsync(ApproachKind.Ours, FanOut, inFlight, warmup, window);
                long exported = spans.Count;
                // Cleared after every cell, so the exported spans of one round are garbage before the next is measured.
                spans.Clear();
                metrics.Clear();
                return (report, exported);
            }
            default:
                return (await Experiments.ThroughputAsync(ApproachKind.Ours, FanOut, inFlight, warmup, window), 0);
        }
    }

    /// <summary>
    /// Throws if anything still listens to the library's source or meter: a probe source and instrument of the same names
    /// see exactly the listeners the library's would.
    /// </summary>
    private static void AssertNobodyListens(string when)
    {
        using var source = new ActivitySource(AggregationTelemetry.ActivitySourceName);
        using var meter = new Meter(AggregationTelemetry.MeterName);
        var probe = meter.CreateCounter<long>("aggregation.benchmark.probe");
        if (source.HasListeners() || probe.Enabled)
            throw new InvalidOperationException($"telemetry section, {when}: a listener is still attached (source {source.HasListeners()}, meter {probe.Enabled})");
    }
}
