using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>What one aggregator incarnation shares with the coordinators and fetchers of its requests.</summary>
internal class AggregatorRuntime(AggregationSettings settings, ILoggingAdapter log, ActorSystem system)
{
    public AggregationSettings Settings { get; } = settings;

    /// <summary>One logger per aggregator, thread-safe; events carry RequestId and Fetcher as properties.</summary>
    public ILoggingAdapter Log { get; } = log;

    public IScheduler Scheduler { get; } = system.Scheduler;
    public AggregationCounters Counters { get; } = new();

    /// <summary>Set by the aggregator before it stops its coordinators on restart, so their replies say why.</summary>
    public volatile string? StopReason;

    /// <summary>Why a request is being stopped from outside: restart, shutdown, or a plain stop of the aggregator.</summary>
    public CancellationCause StopCause() =>
        CoordinatedShutdown.Get(system).ShutdownReason is { } shutdown
            ? new CancellationCause(CancellationCauseKind.Shutdown, $"the actor system is shutting down ({shutdown.GetType().Name})")
            : new CancellationCause(CancellationCauseKind.AggregatorStopped, StopReason ?? "the aggregator stopped");
}

internal sealed class AggregatorRuntime<TKey, TResult>(
    AggregationDefinition<TKey, TResult> definition, AggregationSettings settings, ILoggingAdapter log, ActorSystem system)
    : AggregatorRuntime(settings, log, system)
{
    public AggregationDefinition<TKey, TResult> Definition { get; } = definition;
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

/// <summary>One accepted request, shared by its coordinator and fetchers.</summary>
internal class RequestInfo(string requestId, IActorRef requester, long arrivalTimestamp, TimeSpan timeout)
{
    private CancellationCause? _cause;

    public string RequestId { get; } = requestId;
    public IActorRef Requester { get; } = requester;

    /// <summary><see cref="Stopwatch"/> timestamp of the request's arrival: the deadline's origin.</summary>
    public long ArrivalTimestamp { get; } = arrivalTimestamp;

    public TimeSpan Timeout { get; } = timeout;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(ArrivalTimestamp);

    public TimeSpan Remaining => Timeout - Elapsed;

    /// <summary>Why the request's fetches are being cancelled; the first cause set wins.</summary>
    public CancellationCause? Cause => Volatile.Read(ref _cause);

    public void SetCause(CancellationCause cause) => Interlocked.CompareExchange(ref _cause, cause, null);
}

internal sealed class RequestInfo<TKey>(string requestId, TKey key, IActorRef requester, long arrivalTimestamp, TimeSpan timeout)
    : RequestInfo(requestId, requester, arrivalTimestamp, timeout)
{
    public TKey Key { get; } = key;
}
