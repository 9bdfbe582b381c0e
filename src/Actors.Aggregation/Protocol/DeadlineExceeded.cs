namespace Actors.Aggregation;

/// <summary>The request's absolute deadline passed before the request was complete under its policy.</summary>
/// <param name="Timeout">The deadline that applied, measured from the request's arrival.</param>
/// <param name="Pending">The fetchers that had not finished (running, or waiting for a slot), in declared order.</param>
public sealed record DeadlineExceeded(TimeSpan Timeout, IReadOnlyList<string> Pending) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() =>
        $"deadline of {Timeout.TotalMilliseconds:0} ms exceeded; pending: {(Pending.Count == 0 ? "none" : string.Join(", ", Pending))}";
}
