namespace Actors.Aggregation;

/// <summary>Why a request failed. Exactly one is reported per request: the first one known, like errgroup's first error.</summary>
public abstract record AggregationFailure
{
    private protected AggregationFailure() { }

    /// <summary>A one-line description for logs and error bodies. Never throws, even for an exception whose <c>Message</c> does.</summary>
    public abstract string Describe();

    /// <inheritdoc />
    public sealed override string ToString() => Describe();
}
