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
    }

    public AggregationDefinition<TKey, TResult> Definition { get; }
    public AggregationSettings Settings { get; }

    /// <summary>One logger per aggregator, thread-safe; events carry RequestId and Fetcher as properties.</summary>
    public ILoggingAdapter Log { get; }

    public IScheduler Scheduler { get; }
    public AggregationCounters Counters { get; } = new();

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
    public void LingeringStarted() => Interlocked.Increment(ref _lingering);
    public void LingeringEnded() => Interlocked.Decrement(ref _lingering);
    public void FetchAbandoned() => Interlocked.Increment(ref _abandoned);
}

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
