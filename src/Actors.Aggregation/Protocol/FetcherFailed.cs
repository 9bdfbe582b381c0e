namespace Actors.Aggregation;

/// <summary>
/// A fetcher failed: its task faulted or was cancelled on its own (an <see cref="OperationCanceledException"/> that its
/// token did not cause, such as <c>HttpClient</c>'s own timeout), it threw before its first await, it returned a null task,
/// its actor could not be started, or it ran out of its own budget (<see cref="FetchOptions.Timeout"/>: a
/// <see cref="PartTimeoutException"/>). The siblings' own cancellation exceptions that follow are never reported.
/// </summary>
/// <param name="Fetcher">The failing fetcher's name.</param>
/// <param name="Exception">What it threw: the very instance, with its message, stack trace and inner exceptions.</param>
public sealed record FetcherFailed(string Fetcher, Exception Exception) : AggregationFailure
{
    /// <summary>How many attempts the fetcher made before this failure became final (more than 1 only with a <see cref="RetryPolicy"/> or a <see cref="HedgingPolicy"/>).</summary>
    public int Attempts { get; init; } = 1;

    /// <inheritdoc />
    public override string Describe() =>
        $"fetcher '{Fetcher}' failed{(Attempts > 1 ? $" after {Attempts} attempts" : "")}: {Errors.Describe(Exception)}";
}
