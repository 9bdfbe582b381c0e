using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// One accepted request's scope: errgroup's ctx. One token that every fetch's token is, or is linked to; one cause; ended
/// once, by whoever decides first: the coordinator, the deadline timer, a failing fetch (when a failure ends the request),
/// or a fetcher stopped from outside. The first ending wins, and from then on every fetch outcome is discarded, not reported.
/// Shared by the request's coordinator and fetchers, and written from task continuations and timer threads: every field is
/// either fixed at construction or moved once by compare-and-swap.
/// <para>It is also the message a coordinator tells its aggregator the moment the request is decided, before the reply goes
/// out: the request's in-flight slot and id are free from then on, and the scope's identity tells this request from a later
/// one that reuses its id. (Sending the scope itself costs no allocation on the per-request path.)</para>
/// </summary>
internal sealed class RequestScope<TKey> : ICauseSource, IDeadLetterSuppression, INoSerializationVerificationNeeded
{
    // Owns no timer (the deadline has its own), so it is left to the GC rather than disposed under running fetches.
    private readonly CancellationTokenSource _token = new();
    private readonly bool _failureEndsRequest;
    private object? _ending; // null while open; then the CancellationCause it ended with, or a FailureEnding

    public RequestScope(string requestId, TKey key, IActorRef requester, long arrivalTimestamp, TimeSpan timeout, bool failureEndsRequest)
    {
        RequestId = requestId;
        Key = key;
        Requester = requester;
        ArrivalTimestamp = arrivalTimestamp;
        Timeout = timeout;
        _failureEndsRequest = failureEndsRequest;
    }

    public string RequestId { get; }
    public TKey Key { get; }
    public IActorRef Requester { get; }

    /// <summary><see cref="Stopwatch"/> timestamp of the request's arrival: the deadline's origin.</summary>
    public long ArrivalTimestamp { get; }

    public TimeSpan Timeout { get; }
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(ArrivalTimestamp);
    public TimeSpan Remaining => Timeout - Elapsed;

    /// <summary>The request's token: a fetch's own token, or the one its token is linked to.</summary>
    public CancellationToken Token => _token.Token;

    /// <summary>True once the scope has ended: the request is decided, or about to be, and late outcomes are discarded.</summary>
    public bool IsEnded => Volatile.Read(ref _ending) is not null;

    /// <summary>Why the scope ended (the first ending's cause), or null while it is open.</summary>
    public CancellationCause? Cause => Volatile.Read(ref _ending) switch
    {
        CancellationCause cause => cause,
        FailureEnding failure => failure.Cause,
        _ => null,
    };

    /// <summary>The fetch failure that ended the scope, when a failure ended it: the request's first cause.</summary>
    public FetcherFailed? EndingFailure => (Volatile.Read(ref _ending) as FailureEnding)?.Failure;

    /// <summary>
    /// Ends the scope with <paramref name="cause"/> unless it has ended already: records the cause, then fires the token, so a
    /// fetch that completes inside the cancellation sees both. True when this call ended it.
    /// </summary>
    public bool TryEnd(CancellationCause cause, ILoggingAdapter log) => TryEnd((object)cause, log);

    /// <summary>
    /// errgroup's cancel on the first error: when a failure ends the request (FailFast), the failing fetch ends the scope
    /// itself, so its siblings' tokens fire now, not when the coordinator hears of it; the failure is kept as the first cause.
    /// Under other policies a failure is one outcome among others and the scope stays open. True when this call ended it.
    /// </summary>
    public bool EndOnFailure(FetcherFailed failure, ILoggingAdapter log) =>
        _failureEndsRequest && TryEnd(new FailureEnding(CancellationCause.SiblingFailed(failure.Fetcher), failure), log);

    private bool TryEnd(object ending, ILoggingAdapter log)
    {
        if (Interlocked.CompareExchange(ref _ending, ending, null) is not null) return false;
        try
        {
            _token.Cancel();
        }
        catch (AggregateException e)
        {
            // A callback a fetch registered on its token threw; the request still ends.
            log.Warning(e, "A cancellation callback of request {RequestId} threw", RequestId);
        }
        return true;
    }

    private sealed record FailureEnding(CancellationCause Cause, FetcherFailed Failure);
}
