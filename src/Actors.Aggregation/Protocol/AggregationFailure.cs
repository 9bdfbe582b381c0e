namespace Actors.Aggregation;

/// <summary>Why a request failed. Exactly one is reported per request: the first one known, like errgroup's first error.</summary>
public abstract record AggregationFailure
{
    private protected AggregationFailure() { }

    /// <summary>A one-line description for logs and error bodies.</summary>
    public abstract string Describe();

    /// <inheritdoc />
    public sealed override string ToString() => Describe();
}

/// <summary>
/// A fetcher failed: its task faulted or was cancelled on its own, it threw before its first await, or it returned a null task.
/// Its siblings were stopped and their tokens cancelled; their own cancellation exceptions are never reported.
/// </summary>
/// <param name="Fetcher">The failing fetcher's name.</param>
/// <param name="Exception">What it threw.</param>
public sealed record FetcherFailed(string Fetcher, Exception Exception) : AggregationFailure
{
    /// <summary>How many attempts the fetcher made before this failure became final (more than 1 only with a <see cref="RetryPolicy"/>).</summary>
    public int Attempts { get; init; } = 1;

    /// <inheritdoc />
    public override string Describe() =>
        $"fetcher '{Fetcher}' failed{(Attempts > 1 ? $" after {Attempts} attempts" : "")}: {Exception.GetType().Name}: {Exception.Message}";
}

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

/// <summary>The request's absolute deadline passed before every fetcher finished.</summary>
/// <param name="Timeout">The deadline that applied, measured from the request's arrival.</param>
/// <param name="Pending">The fetchers that had not finished, in declared order.</param>
public sealed record DeadlineExceeded(TimeSpan Timeout, IReadOnlyList<string> Pending) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() =>
        $"deadline of {Timeout.TotalMilliseconds:0} ms exceeded; pending: {(Pending.Count == 0 ? "none" : string.Join(", ", Pending))}";
}

/// <summary>The request was stopped before it finished: the requester sent <see cref="CancelAggregate"/>, or the aggregator or the system stopped.</summary>
/// <param name="Reason">Who cancelled it, in words.</param>
public sealed record AggregationCancelled(string Reason) : AggregationFailure
{
    /// <summary>The reason given when the requester sent <see cref="CancelAggregate"/>.</summary>
    public const string ByRequester = "cancelled by the requester";

    /// <inheritdoc />
    public override string Describe() => $"cancelled: {Reason}";
}

/// <summary>The request never started: bad input (null key, non-positive timeout, duplicate id, wrong key type) or admission control (<c>busy</c>).</summary>
/// <param name="Reason">What was wrong, in words.</param>
public sealed record RequestRejected(string Reason) : AggregationFailure
{
    /// <summary>The reason given when the aggregator already runs <c>max-in-flight</c> requests.</summary>
    public const string Busy = "busy";

    /// <inheritdoc />
    public override string Describe() => $"rejected: {Reason}";
}

/// <summary>Every fetcher succeeded, but <c>Combine</c> threw.</summary>
/// <param name="Exception">What <c>Combine</c> threw.</param>
public sealed record CombineFailed(Exception Exception) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() => $"combine failed: {Exception.GetType().Name}: {Exception.Message}";
}
