using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Xunit;

namespace Actors.Aggregation.Tests;

/// <summary>
/// Records every stopped span of the library's source, the specs' caller source and HttpClient's, that a spec keeps (its
/// own trace: listeners are process-wide and spec classes run side by side in other assemblies).
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    /// <summary>The specs' own source, for the caller's activity.</summary>
    public static readonly ActivitySource Caller = new("Actors.Aggregation.Tests.Caller");

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanRecorder(Func<ActivityTraceId?> trace) : this(activity => activity.TraceId == trace())
    {
    }

    public SpanRecorder(Func<Activity, bool> keep)
    {
        // Created first: a source created while a listener is being added may miss it.
        var caller = Caller;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is AggregationTelemetry.ActivitySourceName or "System.Net.Http" || source == caller,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (keep(activity)) _stopped.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => _stopped.ToArray();

    public IReadOnlyList<Activity> Named(string name) => Stopped.Where(s => s.OperationName == name).ToArray();

    /// <summary>Waits for <paramref name="count"/> stopped spans named <paramref name="name"/>.</summary>
    public async Task<IReadOnlyList<Activity>> AwaitAsync(Akka.TestKit.TestKitBase kit, string name, int count, TimeSpan within)
    {
        await kit.AwaitConditionAsync(() => Task.FromResult(Named(name).Count >= count), within);
        return Named(name);
    }

    public async Task<Activity> AwaitSingleAsync(Akka.TestKit.TestKitBase kit, string name, TimeSpan within)
    {
        await kit.AwaitConditionAsync(() => Task.FromResult(Named(name).Count > 0), within);
        return Assert.Single(Named(name));
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>Records the measurements of one of the library's instruments for one aggregator.</summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(double Value, Dictionary<string, object?> Tags)> _measured = new();

    public MeasurementRecorder(string instrumentName, string aggregator)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AggregationTelemetry.MeterName && instrument.Name == instrumentName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Record(value, tags, aggregator));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Record(value, tags, aggregator));
        _listener.Start();
    }

    private void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, string aggregator)
    {
        var byName = new Dictionary<string, object?>();
        foreach (var tag in tags) byName[tag.Key] = tag.Value;
        if (Equals(byName.GetValueOrDefault("aggregation.aggregator"), aggregator)) _measured.Enqueue((value, byName));
    }

    public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> Measured => _measured.ToArray();

    public void Dispose() => _listener.Dispose();
}
