namespace Actors.Aggregation;

/// <summary>
/// What a fetch may know about its request (errgroup's context, with <c>context.Cause</c>): the token, the request id,
/// the deadline, the attempt number, and, once the token has fired, why.
/// </summary>
public sealed class FetchContext
{
    private readonly RequestInfo _request;

    internal FetchContext(RequestInfo request, string fetcher, int attempt, CancellationToken cancellationToken)
    {
        _request = request;
        Fetcher = fetcher;
        Attempt = attempt;
        CancellationToken = cancellationToken;
    }

    /// <summary>Cancelled when the request is decided (or, under FailFast, a sibling fails) and when this fetcher's actor stops, for any reason; see <see cref="Cause"/>.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The request's id.</summary>
    public string RequestId => _request.RequestId;

    /// <summary>This fetcher's name.</summary>
    public string Fetcher { get; }

    /// <summary>1 for the first attempt; higher when a <see cref="RetryPolicy"/> retries.</summary>
    public int Attempt { get; }

    /// <summary>The request's absolute deadline (arrival + timeout), in UTC wall-clock time.</summary>
    public DateTimeOffset Deadline => DateTimeOffset.UtcNow + _request.Remaining;

    /// <summary>Time left until the deadline; zero or negative once it has passed. Useful as a nested call's timeout.</summary>
    public TimeSpan Remaining => _request.Remaining;

    /// <summary>Why the token fired, or null while it has not.</summary>
    public CancellationCause? Cause => CancellationToken.IsCancellationRequested ? _request.Cause : null;
}

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

    /// <summary>The request completed without this fetch: another won the race, or a quorum was reached.</summary>
    RequestCompleted,

    /// <summary>The aggregator stopped or restarted.</summary>
    AggregatorStopped,

    /// <summary>The actor system is shutting down.</summary>
    Shutdown,
}

/// <summary>Why a fetch's token fired.</summary>
/// <param name="Kind">The kind of cause.</param>
/// <param name="Description">In words.</param>
public sealed record CancellationCause(CancellationCauseKind Kind, string Description)
{
    /// <summary>The fetcher whose failure caused it, for <see cref="CancellationCauseKind.SiblingFailed"/>.</summary>
    public string? Fetcher { get; init; }
}
