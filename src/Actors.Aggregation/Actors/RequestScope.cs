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
    private long _timeoutTicks; // moved only by Extend (a shared run's joiner), under the lock with the deadline's ending

    public RequestScope(string requestId, TKey key, IActorRef requester, long arrivalTimestamp, TimeSpan timeout, bool failureEndsRequest)
    {
        RequestId = requestId;
        Key = key;
        Requester = requester;
        ArrivalTimestamp = arrivalTimestamp;
        _timeoutTicks = timeout.Ticks;
        _failureEndsRequest = failureEndsRequest;
    }

    public string RequestId { get; }
    public TKey Key { get; }
    public IActorRef Requester { get; }

    /// <summary><see cref="Stopwatch"/> timestamp of the request's arrival: the deadline's origin.</summary>
    public long ArrivalTimestamp { get; }

    /// <summary>The budget from arrival. Fixed for a request; a shared run's grows to cover each joiner's own deadline.</summary>
    public TimeSpan Timeout => new(Volatile.Read(ref _timeoutTicks));

    /// <summary>The request's span (or a shared run's), while someone listens; ended with the decision.</summary>
    public System.Diagnostics.Activity? Span { get; set; }

    /// <summary>A shared run of coalesced requests: its requester is the aggregator, which answers each requester that joined.</summary>
    public bool Shared { get; init; }

    /// <summary>The run's parts, for the aggregator to name what is pending when a joiner's own deadline passes (read racily: a snapshot).</summary>
    public PartLedger? Ledger { get; set; }
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
    /// The deadline timer's ending: ends the scope with <see cref="CancellationCause.Deadline"/> when the deadline has
    /// passed, or returns false with <paramref name="remaining"/> left (a timer firing early, or a shared run extended meanwhile).
    /// Under the same lock as <see cref="TryExtend"/>, so a joiner never joins a run its deadline is ending.
    /// </summary>
    public bool TryEndAtDeadline(ILoggingAdapter log, out TimeSpan remaining)
    {
        lock (_token)
        {
            remaining = Remaining;
            return remaining <= TimeSpan.Zero && TryEnd(CancellationCause.Deadline, log);
        }
    }

    /// <summary>
    /// A joiner of a shared run: extends the budget to <paramref name="timeout"/> from arrival if that is later, and says what
    /// it was <paramref name="before"/>. False when
    /// the scope has ended or its deadline has passed: the run cannot serve the joiner, which starts a fresh one.
    /// </summary>
    public bool TryExtend(TimeSpan timeout, out TimeSpan before)
    {
        lock (_token)
        {
            before = Timeout;
            if (IsEnded || Remaining <= TimeSpan.Zero) return false;
            if (timeout.Ticks > _timeoutTicks) Volatile.Write(ref _timeoutTicks, timeout.Ticks);
            return true;
        }
    }

    /// <summary>
    /// errgroup's cancel on the first error: when a failure ends the request (FailFast), the failing fetch ends the scope
    /// itself, so its siblings' tokens fire now, not when the coordinator hears of it; the failure is kept as the first cause.
    /// Under other policies a failure is one outcome among others and the scope stays open. True when this call ended it.
    /// </summary>
    public bool EndOnFailure(FetcherFailed failure, ILoggingAdapter log) =>
        _failureEndsRequest && TryEnd(new FailureEnding(CancellationCause.SiblingFailed(failure.Fetcher), failure), log);

    /// <summary><see cref="Stopwatch"/> timestamp of the scope's ending (when the tokens fired), or 0 while it is open.</summary>
    public long EndedTimestamp => Interlocked.Read(ref _endedTimestamp);

    private long _endedTimestamp;

    /// <summary>The span of the fetch whose failure decided the request, for its cancelled siblings' spans to link to; set before the scope ends.</summary>
    public Activity? FailedSpan { get; set; }

    private bool TryEnd(object ending, ILoggingAdapter log)
    {
        if (Interlocked.CompareExchange(ref _ending, ending, null) is not null) return false;
        Interlocked.Exchange(ref _endedTimestamp, Stopwatch.GetTimestamp());
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
