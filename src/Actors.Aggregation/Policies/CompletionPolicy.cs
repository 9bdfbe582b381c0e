namespace Actors.Aggregation;

/// <summary>
/// When a request is complete, and with what. Chosen per definition with <c>WithPolicy</c>; the default is <see cref="FailFast"/>.
/// A policy owns its rules: the coordinator records each part's outcome and asks the policy what it means. The coordinator
/// knows no policy by name.
/// </summary>
public abstract record CompletionPolicy
{
    private protected CompletionPolicy() { }

    /// <summary>
    /// errgroup.WithContext: every fetcher must succeed. The first failure fails the request at once and cancels the rest
    /// (the failing fetch ends the request's scope itself, before the coordinator hears of it).
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
    /// The first fetcher to succeed wins and the others are cancelled at once; a failure never wins the race.
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

    /// <summary>
    /// Whether one fetch's failure decides the request on its own: the failing fetch then ends the request's scope at once
    /// (errgroup's cancel on the first error), and the fetchers stop together with the request (all-for-one). Otherwise a
    /// failure is one outcome among others, and each fetcher's actor stops as soon as its fetch has finished.
    /// </summary>
    internal abstract bool FailureEndsRequest { get; }

    /// <summary>What the parts mean after one more succeeded.</summary>
    internal abstract Verdict OnSuccess(PartLedger parts);

    /// <summary>What the parts mean after <paramref name="failure"/> was recorded.</summary>
    internal abstract Verdict OnFailure(PartLedger parts, FetcherFailed failure);

    /// <summary>What the deadline means with the parts as they are.</summary>
    internal abstract Verdict OnDeadline(PartLedger parts, TimeSpan timeout);

    /// <summary>Throws the <see cref="ArgumentException"/> <c>Build()</c> reports when the policy cannot work with <paramref name="fetchers"/>
    /// fetchers, <paramref name="optional"/> of them optional.</summary>
    internal virtual void Validate(int fetchers, int optional) { }

    private protected static Verdict Deadline(PartLedger parts, TimeSpan timeout) =>
        Verdict.Fail(new DeadlineExceeded(timeout, parts.Pending()), CancellationCause.Deadline);

    internal sealed record FailFastPolicy : CompletionPolicy
    {
        internal override bool FailureEndsRequest => true;

        internal override Verdict OnSuccess(PartLedger parts) => parts.AllIn ? Verdict.Succeed : Verdict.Pending;

        internal override Verdict OnFailure(PartLedger parts, FetcherFailed failure) =>
            Verdict.FromParts(failure, CancellationCause.SiblingFailed(failure.Fetcher));

        /// <summary>The deadline fails the request, unless only optional parts were left: they fall back and it succeeds.</summary>
        internal override Verdict OnDeadline(PartLedger parts, TimeSpan timeout) =>
            parts.RequiredPending == 0 ? Verdict.SucceedAtDeadline : Deadline(parts, timeout);

        public override string ToString() => "FailFast";
    }

    internal sealed record CollectAllPolicy : CompletionPolicy
    {
        internal override bool FailureEndsRequest => false;

        internal override Verdict OnSuccess(PartLedger parts) => parts.AllFinished ? Verdict.Collect(CancellationCause.Completed) : Verdict.Pending;

        internal override Verdict OnFailure(PartLedger parts, FetcherFailed failure) => OnSuccess(parts);

        /// <summary>The deadline completes the request too: what is in is kept, what runs is timed out.</summary>
        internal override Verdict OnDeadline(PartLedger parts, TimeSpan timeout) => Verdict.Collect(CancellationCause.Deadline);

        public override string ToString() => "CollectAll";
    }

    internal sealed record QuorumPolicy(int Required) : CompletionPolicy
    {
        internal override bool FailureEndsRequest => false;

        internal override Verdict OnSuccess(PartLedger parts) => parts.Succeeded >= Required ? Verdict.Succeed : Verdict.Pending;

        internal override Verdict OnFailure(PartLedger parts, FetcherFailed failure) =>
            parts.Count - parts.Failed < Required
                ? Verdict.FromParts(new QuorumNotReached(Required, parts.Failures.ToArray()), CancellationCause.SiblingFailed(failure.Fetcher))
                : Verdict.Pending;

        internal override Verdict OnDeadline(PartLedger parts, TimeSpan timeout) => Deadline(parts, timeout);

        internal override void Validate(int fetchers, int optional)
        {
            if (optional > 0)
                throw new ArgumentException($"{this} races its fetchers, so none can be optional: a fallback needs FailFast or CollectAll.", "options");
            if (Required > fetchers)
                throw new ArgumentException($"{this} needs {Required} successes but there are only {fetchers} fetchers.", "policy");
        }

        public override string ToString() => Required == 1 ? "FirstSuccess" : $"Quorum({Required})";
    }
}
