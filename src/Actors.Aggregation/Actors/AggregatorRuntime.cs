using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>What one aggregator incarnation shares with the coordinators and fetchers of its requests.</summary>
internal class AggregatorRuntime(AggregationSettings settings, ILoggingAdapter log, ActorSystem system, CompletionPolicy policy, bool limited)
{
    public AggregationSettings Settings { get; } = settings;

    public CompletionPolicy Policy { get; } = policy;

    /// <summary>The policy as telemetry names it.</summary>
    public string PolicyName { get; } = policy.ToString();

    /// <summary>The aggregator actor's name: in span names and metric attributes.</summary>
    public string Name { get; init; } = "";

    /// <summary>
    /// Fetchers stop one by one as their fetches finish (a concurrency limit, or a policy under which a failure does not end
    /// the request); otherwise they live until the request ends and stop together with their coordinator.
    /// </summary>
    public bool StopsFetchersOneByOne { get; } = limited || !policy.FailureEndsRequest;

    /// <summary>
    /// A fetcher whose actor stops only when its request ends can use the request's token itself; one that may stop earlier
    /// gets a token of its own, linked to the request's.
    /// </summary>
    public bool SharesRequestToken => !StopsFetchersOneByOne;

    /// <summary>One logger per aggregator, thread-safe; events carry RequestId and Fetcher as properties.</summary>
    public ILoggingAdapter Log { get; } = log;

    public IScheduler Scheduler { get; } = system.Scheduler;

    /// <summary>Observed latencies of the fetchers that hedge at a percentile, by step index; null when none does.</summary>
    public LatencyWindow?[]? Latencies { get; init; }
    public AggregationCounters Counters { get; } = new();

    /// <summary>Coordinators that failed (a bug, never user code), recorded by the aggregator's strategy before it stops
    /// them, so that the request's reply says so; removed when they have stopped.</summary>
    public ConcurrentDictionary<IActorRef, Exception> Crashes { get; } = new();

    /// <summary>Set by the aggregator before it stops its coordinators on restart, so their replies say why.</summary>
    public volatile string? StopReason;

    /// <summary>Why the request of <paramref name="coordinator"/> is being stopped from outside: its coordinator failed, the
    /// aggregator restarted or stopped, or the system is shutting down.</summary>
    public CancellationCause StopCause(IActorRef coordinator)
    {
        if (Crashes.TryGetValue(coordinator, out var crash))
            return new CancellationCause(CancellationCauseKind.AggregatorStopped,
                $"the request's coordinator failed ({crash.GetType().Name}: {Errors.MessageOf(crash)})");
        return CoordinatedShutdown.Get(system).ShutdownReason is { } shutdown
            ? new CancellationCause(CancellationCauseKind.Shutdown, $"the actor system is shutting down ({shutdown.GetType().Name})")
            : new CancellationCause(CancellationCauseKind.AggregatorStopped, StopReason ?? "the aggregator stopped");
    }
}

internal sealed class AggregatorRuntime<TKey, TResult>(
    AggregationDefinition<TKey, TResult> definition, AggregationSettings settings, ILoggingAdapter log, ActorSystem system, FaultInjection? faults)
    : AggregatorRuntime(settings, log, system, definition.Policy, definition.MaxConcurrency is not null)
{
    public AggregationDefinition<TKey, TResult> Definition { get; } = definition;

    /// <summary>Test-only breakage handed in through an internal Props overload; null outside the library's own tests.</summary>
    public FaultInjection? Faults { get; } = faults;
}

/// <summary>A fetch that may outlive its actor, as the leak report sees it.</summary>
internal interface ILingeringFetch
{
    string RequestId { get; }
    string Fetcher { get; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of its actor's stop, when its token had fired.</summary>
    long StoppedTimestamp { get; }

    /// <summary>Still running <c>abandoned-fetch-grace</c> after its actor stopped: the one definition of abandoned.</summary>
    bool IsAbandoned { get; }
}

/// <summary>Gauges and counters written from actors and task continuations alike, hence Interlocked.</summary>
internal sealed class AggregationCounters
{
    private readonly ConcurrentDictionary<ILingeringFetch, byte> _lingering = new(ReferenceEqualityComparer.Instance);
    private int _liveFetchers;
    private long _abandoned;

    public int LiveFetchers => Volatile.Read(ref _liveFetchers);
    public int Lingering => _lingering.Count;
    public long Abandoned => Interlocked.Read(ref _abandoned);

    public void FetcherStarted()
    {
        Interlocked.Increment(ref _liveFetchers);
        Telemetry.FetcherStarted();
    }

    public void FetcherStopped()
    {
        Interlocked.Decrement(ref _liveFetchers);
        Telemetry.FetcherStopped();
    }

    /// <summary>A fetch whose actor stopped while it still ran. Only such fetches pass through here, never one that finished first.</summary>
    public void LingeringStarted(ILingeringFetch fetch)
    {
        if (_lingering.TryAdd(fetch, 0)) Telemetry.LingeringStarted();
    }

    public void LingeringEnded(ILingeringFetch fetch)
    {
        if (_lingering.TryRemove(fetch, out _)) Telemetry.LingeringEnded();
    }

    public void FetchAbandoned() => Interlocked.Increment(ref _abandoned);

    /// <summary>A moment's copy of the lingering fetches, oldest stop first.</summary>
    public ILingeringFetch[] LingeringSnapshot()
    {
        var fetches = _lingering.Keys.ToArray();
        Array.Sort(fetches, static (a, b) => a.StoppedTimestamp.CompareTo(b.StoppedTimestamp));
        return fetches;
    }
}
