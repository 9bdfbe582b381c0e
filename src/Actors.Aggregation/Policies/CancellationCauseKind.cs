namespace Actors.Aggregation;

/// <summary>Why a fetch's token fired.</summary>
public enum CancellationCauseKind
{
    /// <summary>Another fetcher failed first (<see cref="CancellationCause.Fetcher"/> names it).</summary>
    SiblingFailed,

    /// <summary>The request's deadline passed.</summary>
    DeadlineExceeded,

    /// <summary>The requester sent <see cref="CancelAggregate"/> (or cancelled <c>AggregateAsync</c>).</summary>
    CallerCancelled,

    /// <summary>The requester actor terminated.</summary>
    RequesterTerminated,

    /// <summary>The request was decided without waiting for this fetch: the other parts completed it, another fetch won
    /// the race, a quorum was reached, or the request succeeded and its scope ended.</summary>
    RequestCompleted,

    /// <summary>The aggregator stopped or restarted, or the request's coordinator failed.</summary>
    AggregatorStopped,

    /// <summary>The actor system is shutting down.</summary>
    Shutdown,

    /// <summary>This fetch had already finished, its outcome delivered, when its token fired: the token fires at the latest
    /// when its actor stops, whatever the request did next.</summary>
    FetchFinished,

    /// <summary>This part ran out of its own budget (<see cref="FetchOptions.Timeout"/>); the request goes on without it if it
    /// is optional, and its siblings' tokens are untouched unless its failure ends the request.</summary>
    PartTimedOut,

    /// <summary>Another attempt of this hedged fetch succeeded first (<see cref="CancellationCause.Fetcher"/> and
    /// <see cref="CancellationCause.Attempt"/> name the winner).</summary>
    AttemptLost,
}
