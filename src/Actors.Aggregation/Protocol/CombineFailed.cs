namespace Actors.Aggregation;

/// <summary>The parts the policy needed were in, but <c>Combine</c> threw.</summary>
/// <param name="Exception">What <c>Combine</c> threw.</param>
public sealed record CombineFailed(Exception Exception) : AggregationFailure
{
    /// <inheritdoc />
    public override string Describe() => $"combine failed: {Errors.Describe(Exception)}";
}
