namespace Actors.Aggregation;

/// <summary>
/// When a request is complete, and with what. Chosen per definition with <c>WithPolicy</c>; the default is <see cref="FailFast"/>.
/// </summary>
public abstract record CompletionPolicy
{
    private protected CompletionPolicy() { }

    /// <summary>
    /// errgroup.WithContext: every fetcher must succeed. The first failure fails the request at once and cancels the rest.
    /// Reply: <see cref="AggregateSucceeded{TResult}"/> or <see cref="AggregateFailed"/>.
    /// </summary>
    public static CompletionPolicy FailFast { get; } = new FailFastPolicy();

    /// <summary>
    /// WaitGroup semantics: wait for every fetcher, or the deadline, and keep every outcome, not just the first error.
    /// Failures do not cancel siblings. Reply: <see cref="AggregateCompleted{TResult}"/> with each part's value, error or time-out;
    /// <c>Combine</c> sees only the parts that succeeded (the default joins their text).
    /// </summary>
    public static CompletionPolicy CollectAll { get; } = new CollectAllPolicy();

    /// <summary>
    /// Hedging: the first fetcher to succeed wins and the others are cancelled at once; a failure never wins the race.
    /// If every fetcher fails, <see cref="AggregateFailed"/> carries <see cref="QuorumNotReached"/> with all their errors.
    /// <c>Combine</c> sees only the winner's part.
    /// </summary>
    public static CompletionPolicy FirstSuccess { get; } = new QuorumPolicy(1);

    /// <summary>
    /// The first <paramref name="required"/> successes complete the request and the rest are cancelled. Fails with
    /// <see cref="QuorumNotReached"/> as soon as too many have failed for the quorum to be reachable.
    /// <c>Combine</c> sees only the successful parts.
    /// </summary>
    /// <param name="required">How many successes are needed: from 1 to the number of fetchers (checked at <c>Build</c>).</param>
    public static CompletionPolicy Quorum(int required) =>
        required >= 1 ? new QuorumPolicy(required) : throw new ArgumentOutOfRangeException(nameof(required), required, "A quorum needs at least one success.");

    internal sealed record FailFastPolicy : CompletionPolicy
    {
        public override string ToString() => "FailFast";
    }

    internal sealed record CollectAllPolicy : CompletionPolicy
    {
        public override string ToString() => "CollectAll";
    }

    internal sealed record QuorumPolicy(int Required) : CompletionPolicy
    {
        public override string ToString() => Required == 1 ? "FirstSuccess" : $"Quorum({Required})";
    }
}

/// <summary>The outcome of one part under <see cref="CompletionPolicy.CollectAll"/>.</summary>
public enum PartStatus
{
    /// <summary>The fetch succeeded; <see cref="PartOutcome.Value"/> holds its part.</summary>
    Succeeded,

    /// <summary>The fetch failed; <see cref="PartOutcome.Error"/> holds the exception.</summary>
    Failed,

    /// <summary>The deadline passed while the fetch was running; it was cancelled.</summary>
    TimedOut,

    /// <summary>The deadline passed before the fetch could start (bounded concurrency).</summary>
    NotStarted,
}

/// <summary>One part's outcome, in declared order.</summary>
/// <param name="Fetcher">The fetcher's name.</param>
/// <param name="Status">What happened.</param>
/// <param name="Value">The part, when <see cref="PartStatus.Succeeded"/>.</param>
/// <param name="Error">The exception, when <see cref="PartStatus.Failed"/>.</param>
public sealed record PartOutcome(string Fetcher, PartStatus Status, object? Value, Exception? Error)
{
    /// <summary>How many attempts the fetch made (more than 1 only with a <see cref="RetryPolicy"/>).</summary>
    public int Attempts { get; init; } = 1;
}
