namespace Actors.Aggregation;

/// <summary>One part's outcome, in declared order.</summary>
/// <param name="Fetcher">The fetcher's name.</param>
/// <param name="Status">What happened.</param>
/// <param name="Value">The part, when <see cref="PartStatus.Succeeded"/>; the fallback value when <see cref="PartStatus.FellBack"/>.</param>
/// <param name="Error">The exception the fetch threw, the very instance, when <see cref="PartStatus.Failed"/>; why it fell
/// back when <see cref="PartStatus.FellBack"/>.</param>
public sealed record PartOutcome(string Fetcher, PartStatus Status, object? Value, Exception? Error)
{
    /// <summary>How many attempts the fetch started: more than 1 only with a <see cref="RetryPolicy"/> or a <see cref="HedgingPolicy"/>, 0 when it never started.</summary>
    public int Attempts { get; init; } = 1;
}
