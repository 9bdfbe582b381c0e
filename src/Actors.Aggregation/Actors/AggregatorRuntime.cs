using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>What one aggregator incarnation shares with the coordinators and fetchers of its requests.</summary>
internal sealed class AggregatorRuntime<TKey, TResult>
{
    public AggregatorRuntime(AggregationDefinition<TKey, TResult> definition, AggregationSettings settings, ILoggingAdapter log, IScheduler scheduler)
    {
        Definition = definition;
        Settings = settings;
        Log = log;
        Scheduler = scheduler;
        Faults = FaultInjection.For(definition);
    }

    public AggregationDefinition<TKey, TResult> Definition { get; }
    public AggregationSettings Settings { get; }

    /// <summary>One logger per aggregator, thread-safe; events carry RequestId and Fetcher as properties.</summary>
    public ILoggingAdapter Log { get; }

    public IScheduler Scheduler { get; }
    public AggregationCounters Counters { get; } = new();

    /// <summary>Test-only breakage injected into this definition's coordinators; null (always, outside the library's own tests).</summary>
    public FaultInjection? Faults { get; }

    /// <summary>Set by the aggregator before it stops its coordinators on restart, so their replies say why.</summary>
    public volatile string? StopReason;
}

/// <summary>Gauges and counters written from actors and task continuations alike, hence Interlocked.</summary>
internal sealed class AggregationCounters
{
    private int _liveFetchers;
    private int _lingering;
    private long _abandoned;

    public int LiveFetchers => Volatile.Read(ref _liveFetchers);
    public int Lingering => Volatile.Read(ref _lingering);
    public long Abandoned => Interlocked.Read(ref _abandoned);

    public void FetcherStarted() => Interlocked.Increment(ref _liveFetchers);
    public void FetcherStopped() => Interlocked.Decrement(ref _liveFetchers);
    public void FetchAbandoned() => Interlocked.Increment(ref _abandoned);

    /// <summary>
    /// Fetches whose actor stopped while their task still ran, keyed by their run, so a <see cref="LeakReport"/> can name them.
    /// Only stopped-while-running fetches pass through here (a cancelled cooperative fetch leaves again within moments), never a fetch that finished first.
    /// </summary>
    private readonly ConcurrentDictionary<object, LingeringEntry> _lingeringFetches = new(ReferenceEqualityComparer.Instance);

    public void LingeringStarted(object run, string requestId, string fetcher)
    {
        _lingeringFetches[run] = new LingeringEntry(requestId, fetcher, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _lingering);
    }

    public void LingeringEnded(object run)
    {
        _lingeringFetches.TryRemove(run, out _);
        Interlocked.Decrement(ref _lingering);
    }

    /// <summary>A moment's copy of the lingering fetches, oldest token first.</summary>
    public LingeringEntry[] LingeringSnapshot()
    {
        var entries = _lingeringFetches.Values.ToArray();
        Array.Sort(entries, static (a, b) => a.TokenFiredTimestamp.CompareTo(b.TokenFiredTimestamp));
        return entries;
    }
}

/// <summary>One fetch still running after its actor stopped: whose, and since when (Stopwatch timestamp of its token firing).</summary>
internal sealed record LingeringEntry(string RequestId, string Fetcher, long TokenFiredTimestamp);

/// <summary>One accepted request, as the aggregator hands it to its coordinator.</summary>
internal sealed class RequestInfo<TKey>(string requestId, TKey key, IActorRef requester, long arrivalTimestamp, TimeSpan timeout)
{
    public string RequestId { get; } = requestId;
    public TKey Key { get; } = key;
    public IActorRef Requester { get; } = requester;

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the request's arrival: the deadline's origin.</summary>
    public long ArrivalTimestamp { get; } = arrivalTimestamp;

    public TimeSpan Timeout { get; } = timeout;
}
