namespace Actors.Aggregation;

internal enum VerdictKind : byte
{
    /// <summary>Not decided yet.</summary>
    Pending,

    /// <summary>Combine the parts that succeeded; reply <see cref="AggregateSucceeded{TResult}"/>.</summary>
    Succeed,

    /// <summary>Combine the parts that succeeded; reply <see cref="AggregateCompleted{TResult}"/> with every part's outcome.</summary>
    Collect,

    /// <summary>Reply <see cref="AggregateFailed"/> with <see cref="Verdict.Failure"/>.</summary>
    Fail,
}

/// <summary>
/// A policy's (or the coordinator's) answer to "is the request decided, and how": what to reply, and the cause every fetch
/// still running sees when its token fires.
/// </summary>
/// <param name="Kind">What to reply.</param>
/// <param name="Failure">The failure, for <see cref="VerdictKind.Fail"/>.</param>
/// <param name="Cause">Why the tokens of the fetches still running fire.</param>
/// <param name="RestsOnParts">True when it follows from parts that finished before the request's scope ended: such a verdict
/// stands even if the deadline passed while it travelled to the coordinator.</param>
internal readonly record struct Verdict(VerdictKind Kind, AggregationFailure? Failure, CancellationCause? Cause, bool RestsOnParts)
{
    public static Verdict Pending => default;

    public static Verdict Succeed { get; } = new(VerdictKind.Succeed, null, CancellationCause.Completed, RestsOnParts: true);

    /// <summary>The deadline passed with only optional parts running: they fall back, and the request succeeds.</summary>
    public static Verdict SucceedAtDeadline { get; } = new(VerdictKind.Succeed, null, CancellationCause.Deadline, RestsOnParts: false);

    public static Verdict Collect(CancellationCause cause) => new(VerdictKind.Collect, null, cause, RestsOnParts: cause.Kind != CancellationCauseKind.DeadlineExceeded);

    /// <summary>A failure that the parts decided (a fetcher's failure, an unreachable quorum).</summary>
    public static Verdict FromParts(AggregationFailure failure, CancellationCause cause) => new(VerdictKind.Fail, failure, cause, RestsOnParts: true);

    /// <summary>A failure decided from outside the parts: the deadline, a cancel, the requester's death, a stop.</summary>
    public static Verdict Fail(AggregationFailure failure, CancellationCause cause) => new(VerdictKind.Fail, failure, cause, RestsOnParts: false);

    public bool IsDecided => Kind != VerdictKind.Pending;
}
