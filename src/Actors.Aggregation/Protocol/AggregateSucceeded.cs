namespace Actors.Aggregation;

/// <summary>The request succeeded under its policy; <paramref name="Result"/> is the combination of its parts.</summary>
/// <param name="RequestId">The request this answers.</param>
/// <param name="Result">The combined result.</param>
/// <param name="Elapsed">Time from the request's arrival at the aggregator to this reply.</param>
public sealed record AggregateSucceeded<TResult>(string RequestId, TResult Result, TimeSpan Elapsed) : IAggregateSucceeded
{
    Type IAggregateSucceeded.ResultType => typeof(TResult);

    object? IAggregateSucceeded.ResultObject => Result;

    /// <summary>The optional parts that fell back (<see cref="PartStatus.FellBack"/>), in declared order, each with its
    /// fallback value and why; empty when every part is real.</summary>
    public IReadOnlyList<PartOutcome> FellBack { get; init; } = [];

    IAggregateSucceeded IAggregateSucceeded.WithFellBack(IReadOnlyList<PartOutcome> fellBack) => this with { FellBack = fellBack };
}
