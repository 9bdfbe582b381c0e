namespace Actors.Aggregation;

/// <summary>
/// What a fetch may know about its request (errgroup's context, with <c>context.Cause</c>): the key, the token, the request
/// id, the deadline, the attempt number, and, once the token has fired, why. Take it as the single parameter of a fetch:
/// <c>.Fetch("profile", context =&gt; profiles.GetAsync(context.Key, context.CancellationToken))</c>.
/// </summary>
/// <typeparam name="TKey">The request key.</typeparam>
public sealed class FetchContext<TKey>
{
    private readonly RequestScope<TKey> _scope;
    private readonly ICauseSource _causes;

    internal FetchContext(RequestScope<TKey> scope, string fetcher, int attempt, CancellationToken cancellationToken, ICauseSource causes)
    {
        _scope = scope;
        _causes = causes;
        Fetcher = fetcher;
        Attempt = attempt;
        CancellationToken = cancellationToken;
    }

    /// <summary>The request key.</summary>
    public TKey Key => _scope.Key;

    /// <summary>Fires when the request is decided (or, under FailFast, a sibling fails) and when this fetcher's actor stops, for any reason; see <see cref="Cause"/>.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The request's id.</summary>
    public string RequestId => _scope.RequestId;

    /// <summary>This fetcher's name.</summary>
    public string Fetcher { get; }

    /// <summary>1 for the first attempt; higher when a <see cref="RetryPolicy"/> retries.</summary>
    public int Attempt { get; }

    /// <summary>When this part's time is up, in UTC wall-clock time: the request's absolute deadline (arrival + timeout), or the
    /// end of the part's own budget (<see cref="FetchOptions.Timeout"/>) when that comes first.</summary>
    public DateTimeOffset Deadline => DateTimeOffset.UtcNow + Remaining;

    /// <summary>Time left until <see cref="Deadline"/>; zero or negative once it has passed. Useful as a nested call's timeout.</summary>
    public TimeSpan Remaining => _causes.PartRemaining is { } own && own < _scope.Remaining ? own : _scope.Remaining;

    /// <summary>Why the token fired, or null while it has not. Every fired token has a cause.</summary>
    public CancellationCause? Cause => CancellationToken.IsCancellationRequested ? _causes.Cause : null;
}
