namespace Actors.Aggregation;

/// <summary>Why a fetch's token fired.</summary>
/// <param name="Kind">The kind of cause.</param>
/// <param name="Description">In words.</param>
public sealed record CancellationCause(CancellationCauseKind Kind, string Description)
{
    /// <summary>The fetcher whose failure caused it, for <see cref="CancellationCauseKind.SiblingFailed"/>.</summary>
    public string? Fetcher { get; init; }

    /// <summary>The winning attempt, for <see cref="CancellationCauseKind.AttemptLost"/>.</summary>
    public int? Attempt { get; init; }

    internal static readonly CancellationCause Deadline = new(CancellationCauseKind.DeadlineExceeded, "the request's deadline passed");
    internal static readonly CancellationCause Caller = new(CancellationCauseKind.CallerCancelled, AggregationCancelled.ByRequester);
    internal static readonly CancellationCause Requester = new(CancellationCauseKind.RequesterTerminated, "the requester terminated");
    internal static readonly CancellationCause Completed = new(CancellationCauseKind.RequestCompleted, "the request was decided without this part");
    internal static readonly CancellationCause Finished = new(CancellationCauseKind.FetchFinished, "this fetch had finished before its token fired");

    internal static CancellationCause SiblingFailed(string fetcher) =>
        new(CancellationCauseKind.SiblingFailed, $"fetcher '{fetcher}' failed") { Fetcher = fetcher };

    internal static CancellationCause PartTimedOut(string fetcher, TimeSpan budget) =>
        new(CancellationCauseKind.PartTimedOut, $"fetcher '{fetcher}' ran out of its own {budget.TotalMilliseconds} ms budget") { Fetcher = fetcher };

    internal static CancellationCause AttemptLost(string fetcher, int winner) =>
        new(CancellationCauseKind.AttemptLost, $"attempt {winner} of fetcher '{fetcher}' succeeded first") { Fetcher = fetcher, Attempt = winner };
}
