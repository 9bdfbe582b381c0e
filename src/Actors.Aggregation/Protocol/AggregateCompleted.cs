namespace Actors.Aggregation;

/// <summary>
/// The reply under <see cref="CompletionPolicy.CollectAll"/>: every fetcher finished or the deadline passed. Each part's
/// outcome is kept, in declared order; <paramref name="Result"/> is <c>Combine</c> over the parts that succeeded.
/// </summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Result">The combination of the successful parts.</param>
/// <param name="Parts">Every part's outcome, in declared order.</param>
/// <param name="Elapsed">Time from the request's arrival at the aggregator to this reply.</param>
public sealed record AggregateCompleted<TResult>(string RequestId, TResult Result, IReadOnlyList<PartOutcome> Parts, TimeSpan Elapsed) : IAggregateCompleted
{
    Type IAggregateSucceeded.ResultType => typeof(TResult);

    object? IAggregateSucceeded.ResultObject => Result;

    IReadOnlyList<PartOutcome> IAggregateSucceeded.FellBack => Parts.Where(p => p.Status == PartStatus.FellBack).ToArray();

    IAggregateSucceeded IAggregateSucceeded.WithFellBack(IReadOnlyList<PartOutcome> fellBack) => this; // its parts say so already

    /// <summary>True when every part succeeded.</summary>
    public bool AllSucceeded => Parts.All(p => p.Status == PartStatus.Succeeded);
}
