using System.Diagnostics;
using Actors.Aggregation;

namespace Actors.Dashboard.Requests;

/// <summary>
/// Keeps the library's spans of the most recent requests, one <see cref="RequestTrace"/> per trace id, for
/// <c>GET /requests</c> and the demo's text waterfall. It owns an <see cref="ActivityListener"/> for the
/// <see cref="AggregationTelemetry.ActivitySourceName"/> source only, from its construction to its disposal (with the host).
/// </summary>
/// <remarks>
/// A trace is kept from the moment its request span starts; the spans of a trace it does not keep (one evicted, or whose
/// request started before the recorder) are dropped, so a late completion attaches to its request while that request is
/// among the <see cref="Capacity"/> newest, and is dropped after. Memory is bounded: <see cref="Capacity"/> traces of at
/// most <see cref="MaxSpansPerTrace"/> spans each. Listeners are process-wide: the recorder sees every aggregator of the
/// process (two hosts in one process see each other's requests), and its sampling decision,
/// <see cref="ActivitySamplingResult.AllDataAndRecorded"/>, is combined with any other listener's (an OpenTelemetry
/// sampler's included) by taking the highest, so every span of the library is created and marked recorded while it listens.
/// Thread-safe: spans stop on actor and thread-pool threads while the page reads.
/// </remarks>
public sealed class RequestRecorder : IHostedService, IDisposable
{
    /// <summary>How many request traces the recorder keeps unless told otherwise.</summary>
    public const int DefaultCapacity = 20;

    /// <summary>How many spans it keeps per trace: a request's fetches, their attempts and late completions.</summary>
    public const int MaxSpansPerTrace = 256;

    private readonly object _gate = new();
    private readonly Dictionary<ActivityTraceId, Trace> _traces = new();
    private readonly LinkedList<Trace> _order = new(); // oldest first
    private readonly ActivityListener _listener;
    private long _started;
    private int _disposed;

    /// <summary>Starts listening; keeps the <see cref="DefaultCapacity"/> most recent traces.</summary>
    public RequestRecorder() : this(DefaultCapacity)
    {
    }

    /// <summary>Starts listening; keeps the <paramref name="capacity"/> most recent traces.</summary>
    public RequestRecorder(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == AggregationTelemetry.ActivitySourceName,
            // AllData, not AllDataAndRecorded: the page needs every span, but must not mark a span "recorded" (sampled) over
            // the OpenTelemetry SDK's sampler when that runs too; the highest of all listeners' answers wins.
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            SampleUsingParentId = static (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.AllData,
            ActivityStarted = Started,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>How many request traces it keeps.</summary>
    public int Capacity { get; }

    /// <summary>How many requests it has seen start so far: the <see cref="RequestTrace.Number"/> of the newest.</summary>
    public long RequestsStarted => Interlocked.Read(ref _started);

    /// <summary>Registers the recorder as a singleton, and as a hosted service so that it listens from the host's start.</summary>
    public static void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(_ => new RequestRecorder());
        services.AddHostedService(provider => provider.GetRequiredService<RequestRecorder>());
    }

    /// <summary>The kept traces, newest request first.</summary>
    public IReadOnlyList<RequestTrace> Recent()
    {
        lock (_gate)
        {
            var recent = new List<RequestTrace>(_order.Count);
            for (var node = _order.Last; node is not null; node = node.Previous) recent.Add(node.Value.Snapshot());
            return recent;
        }
    }

    /// <summary>
    /// Waits until a kept trace matches <paramref name="match"/> and is settled (answered, no span of it still open), polling;
    /// null if none did within <paramref name="within"/>.
    /// </summary>
    public async Task<RequestTrace?> WaitForSettledAsync(Func<RequestTrace, bool> match, TimeSpan within, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var until = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (Recent().FirstOrDefault(t => t.IsSettled && match(t)) is { } trace) return trace;
            if (Stopwatch.GetTimestamp() >= until) return null;
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Nothing to start: the recorder listens from its construction. Being a hosted service makes the host create it.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Keeps listening: late completions during shutdown still attach. Disposal stops it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops listening; what was kept stays readable. Idempotent (the host disposes it as a singleton and as a hosted service).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _listener.Dispose();
    }

    private void Started(Activity activity)
    {
        lock (_gate)
        {
            if (!_traces.TryGetValue(activity.TraceId, out var trace))
            {
                // Only a request's span opens a trace: a span of a trace not kept (evicted, or started before the recorder) is dropped.
                if (!activity.DisplayName.StartsWith(RecordedSpan.RequestPrefix, StringComparison.Ordinal)) return;
                trace = new Trace(activity.TraceId, Interlocked.Increment(ref _started));
                _order.AddLast(trace);
                _traces.Add(trace.Id, trace);
                while (_order.Count > Capacity)
                {
                    var oldest = _order.First!.Value;
                    _order.RemoveFirst();
                    _traces.Remove(oldest.Id);
                }
            }
            if (trace.Open.Count + trace.Spans.Count < MaxSpansPerTrace) trace.Open.Add(activity.SpanId);
        }
    }

    private void Stopped(Activity activity)
    {
        var span = RecordedSpan.From(activity);
        lock (_gate)
        {
            if (!_traces.TryGetValue(activity.TraceId, out var trace)) return;
            if (!trace.Open.Remove(span.SpanId))
            {
                // Started while the trace was full (or before the recorder): not kept.
                trace.Truncated = true;
                return;
            }
            trace.Spans.Add(span);
        }
    }

    /// <summary>A kept trace, mutable under the recorder's lock.</summary>
    private sealed class Trace(ActivityTraceId id, long number)
    {
        public ActivityTraceId Id { get; } = id;

        public long Number { get; } = number;

        public List<RecordedSpan> Spans { get; } = [];

        public HashSet<ActivitySpanId> Open { get; } = [];

        public bool Truncated { get; set; }

        public RequestTrace Snapshot() => new(Id, Number, Spans.ToArray(), Open.Count, Truncated);
    }
}
