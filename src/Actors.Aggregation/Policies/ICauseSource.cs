namespace Actors.Aggregation;

/// <summary>Whoever can say why a fetch's token fired: the request's scope, a fetcher whose own token fired first, or a hedged attempt.</summary>
internal interface ICauseSource
{
    CancellationCause? Cause { get; }

    /// <summary>Time left of the part's own budget (<see cref="FetchOptions.Timeout"/>), or null when it has none.</summary>
    TimeSpan? PartRemaining => null;
}
