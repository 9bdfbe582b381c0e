using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

// The messages the library's actors exchange among themselves. None crosses a node: a coordinator and its fetchers always
// live on their aggregator's node. Each actor's private messages (timer ticks, a fetch's fault) are nested in it instead.

/// <summary>A fetcher's part, sent straight to the coordinator (from the fetch's continuation, or by an ask fetcher).</summary>
internal sealed record PartCompleted(int Index, object? Value) : IDeadLetterSuppression;

/// <summary>Told to a coordinator by the aggregator when the request's requester terminated.</summary>
internal sealed class RequesterTerminated : IDeadLetterSuppression
{
    public static readonly RequesterTerminated Instance = new();

    private RequesterTerminated() { }
}

/// <summary>
/// Told to the aggregator by a coordinator the moment its request is decided, before the reply goes out: the request's
/// in-flight slot and id are free from then on. <see cref="Scope"/> tells this request from a later one that reuses its id.
/// </summary>
internal sealed record RequestDecided(string RequestId, object Scope) : IDeadLetterSuppression;

/// <summary>Carries a fetch's failure through supervision to the coordinator's all-for-one strategy.</summary>
internal sealed class FetchFailedException(int index, FetcherFailed failure)
    // Never built from the user's exception's Message: that getter may throw.
    : Exception($"Fetcher '{failure.Fetcher}' failed.", failure.Exception)
{
    public int Index { get; } = index;
    public FetcherFailed Failure { get; } = failure;
}

/// <summary>
/// What a fetcher actor needs: its step, the request it serves, where to report, the aggregator's shared parts, and, for a
/// retried step, the count of attempts started, which its retry loop moves and the coordinator reads for the part's outcome.
/// </summary>
internal sealed record FetcherSetup<TKey>(FetchStep<TKey> Step, RequestScope<TKey> Scope, IActorRef Coordinator, AggregatorRuntime Runtime, AttemptCounter? Attempts);

/// <summary>Attempts a retried fetch has started; written by its retry loop, read by its coordinator.</summary>
internal sealed class AttemptCounter
{
    private int _started;

    public int Started => Volatile.Read(ref _started);

    public int Next() => Interlocked.Increment(ref _started);
}
