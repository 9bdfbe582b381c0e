using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>What one aggregator incarnation shares with the coordinators and fetchers of its requests.</summary>
internal class AggregatorRuntime(AggregationSettings settings, ILoggingAdapter log, ActorSystem system, bool failFast, bool limited)
{
    public AggregationSettings Settings { get; } = settings;

    /// <summary>Under FailFast a fetch's failure decides the request: its continuation ends the request's scope at once.</summary>
    public bool FailFast { get; } = failFast;

    /// <summary>
    /// FailFast without a concurrency limit: a fetcher's actor stops only when its request ends, so its fetch can use the
    /// request's token itself. Otherwise fetchers are stopped one by one and each fetch gets a token linked to it.
    /// </summary>
    public bool SharesRequestToken { get; } = failFast && !limited;

    /// <summary>One logger per aggregator, thread-safe; events carry RequestId and Fetcher as properties.</summary>
    public ILoggingAdapter Log { get; } = log;

    public IScheduler Scheduler { get; } = system.Scheduler;
    public AggregationCounters Counters { get; } = new();

    /// <summary>Coordinators that failed (a bug, never user code), recorded by the aggregator's strategy before it stops
    /// them, so the reply sent from their PostStop says so.</summary>
    public ConcurrentDictionary<IActorRef, Exception> Crashes { get; } = new();

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
    : AggregatorRuntime(settings, log, system, definition.Policy is CompletionPolicy.FailFastPolicy, definition.MaxConcurrency is not null)
{
    public AggregationDefinition<TKey, TResult> Definition { get; } = definition;

    /// <summary>Test-only breakage injected into this definition's coordinators; null (always, outside the library's own tests).</summary>
    public FaultInjection? Faults { get; } = FaultInjection.For(definition);
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
    public void FetchAbandoned() => Interlocked.Increment(ref _abandoned);
}

/// <summary>One fetch still running after its actor stopped: whose, and since when (Stopwatch timestamp of its token firing).</summary>
internal sealed record LingeringEntry(string RequestId, string Fetcher, long TokenFiredTimestamp);

/// <summary>
/// One accepted request, shared by its coordinator and fetchers. It owns the request's scope (errgroup's ctx): one token
/// source that every fetch's token is, or is linked to, ended once by whoever decides first (the coordinator, the deadline
/// timer, a failing fetch under FailFast, a fetcher stopped from outside).
/// </summary>
internal class RequestInfo(string requestId, IActorRef requester, long arrivalTimestamp, TimeSpan timeout)
{
    // Owns no timer (the deadline has its own), so it is left to the GC rather than disposed under running fetches.
    private readonly CancellationTokenSource _scope = new();
    private CancellationCause? _cause;
    private int _ended;

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

    /// <summary>The request's token: a fetch's own token, or the one its token is linked to.</summary>
    public CancellationToken Token => _scope.Token;

    /// <summary>True once the request's outcome is decided: any fetch finishing from now on is discarded, not reported.</summary>
    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>
    /// Ends the request's scope once: sets <paramref name="cause"/> (unless a cause is set already), marks the request ended,
    /// then fires the token, so a fetch that completes inside the cancellation sees both. Later calls do nothing.
    /// </summary>
    public void End(CancellationCause? cause, ILoggingAdapter log)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        if (cause is not null) SetCause(cause);
        try
        {
            _scope.Cancel();
        }
        catch (AggregateException e)
        {
            // A callback a fetch registered on its token threw; the request still ends.
            log.Warning(e, "A cancellation callback of request {RequestId} threw", RequestId);
        }
    }
}

internal sealed class RequestInfo<TKey>(string requestId, TKey key, IActorRef requester, long arrivalTimestamp, TimeSpan timeout)
    : RequestInfo(requestId, requester, arrivalTimestamp, timeout)
{
    public TKey Key { get; } = key;
}
