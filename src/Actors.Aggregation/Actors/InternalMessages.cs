using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

// The messages the library's actors exchange among themselves. None crosses a node: a coordinator and its fetchers always
// live on their aggregator's node, so none is serialized, even with akka.actor.serialize-messages on
// (INoSerializationVerificationNeeded). Each actor's private messages (timer ticks, a fetch's fault) are nested in it instead.

/// <summary>A fetcher's part, sent straight to the coordinator (from the fetch's continuation, or by an ask fetcher).</summary>
internal sealed record PartCompleted(int Index, object? Value) : IDeadLetterSuppression, INoSerializationVerificationNeeded;

/// <summary>Told to a coordinator by the aggregator when the request's requester terminated.</summary>
internal sealed class RequesterTerminated : IDeadLetterSuppression, INoSerializationVerificationNeeded
{
    public static readonly RequesterTerminated Instance = new();

    private RequesterTerminated() { }
}

/// <summary>Told to a shared run's coordinator by the aggregator when every requester that joined it has left.</summary>
internal sealed record RunAbandoned(CancellationCause Cause) : IDeadLetterSuppression, INoSerializationVerificationNeeded
{
    public const string Reason = "every requester of the shared run left";
}

/// <summary>
/// A shared run's reply, sent to its aggregator, which answers each requester that joined it. Suppressed as a dead letter:
/// when the aggregator itself stops, its runs' last replies find it gone, and it has answered every joiner already.
/// </summary>
internal sealed record RunDecided(IAggregateReply Reply) : IDeadLetterSuppression, INoSerializationVerificationNeeded;

/// <summary>Carries a fetch's failure through supervision to the coordinator's all-for-one strategy.</summary>
internal sealed class FetchFailedException(int index, FetcherFailed failure)
    // Never built from the user's exception's Message: that getter may throw.
    : Exception($"Fetcher '{failure.Fetcher}' failed.", failure.Exception)
{
    public int Index { get; } = index;
    public FetcherFailed Failure { get; } = failure;
}

/// <summary>
/// What every fetcher actor of one request needs besides its own step: the request it serves, where to report, and the
/// aggregator's shared parts. One per request, shared by its fetchers.
/// </summary>
internal sealed record FetcherSetup<TKey>(RequestScope<TKey> Scope, IActorRef Coordinator, AggregatorRuntime Runtime);

/// <summary>Attempts a retried fetch has started; written by its retry loop, read by its coordinator.</summary>
internal sealed class AttemptCounter
{
    private int _started;

    public int Started => Volatile.Read(ref _started);

    public int Next() => Interlocked.Increment(ref _started);
}
