namespace Actors.Aggregation;

/// <summary>
/// Under <see cref="CompletionPolicy.FirstSuccess"/> or <see cref="CompletionPolicy.Quorum"/>: so many fetchers failed that
/// <paramref name="Required"/> successes became impossible. Every failure is kept, in the order they happened.
/// </summary>
/// <param name="Required">Successes the policy needed.</param>
/// <param name="Failures">Each failed fetcher and its error.</param>
public sealed record QuorumNotReached(int Required, IReadOnlyList<FetcherFailed> Failures) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Required} success(es) needed, unreachable after {Failures.Count} failure(s): {string.Join("; ", Failures.Select(f => f.Describe()))}";
}
