namespace Actors.Aggregation;

/// <summary>Whoever can say why a fetch's token fired: the request's scope, a fetcher whose own token fired first, or a hedged attempt.</summary>
internal interface ICauseSource
{
    CancellationCause? Cause { get; }

    /// <summary>Time left of the part's own budget (<see cref="FetchOptions.Timeout"/>), or null when it has none.</summary>
    TimeSpan? PartRemaining => null;

    /// <summary>Starts the span of attempt <paramref name="attempt"/>, the child of the request's, and makes it
    /// <see cref="System.Diagnostics.Activity.Current"/>; null when nobody traces. The caller puts back what was current.</summary>
    System.Diagnostics.Activity? StartAttemptSpan(int attempt) => null;

    /// <summary>The current attempt failed and another will follow (a retry): its span ends, not as the part's failure.</summary>
    void AttemptRetried(Exception failure) { }
}
