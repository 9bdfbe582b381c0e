namespace Actors.Aggregation;

/// <summary>
/// Thrown by <see cref="AggregatorRefExtensions.AggregateAsync{TKey, TResult}"/> when the request failed.
/// <see cref="Reason"/> is the first cause; for <see cref="FetcherFailed"/> and <see cref="CombineFailed"/> the user's exception is also the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class AggregationFailedException : Exception
{
    /// <summary>Creates the exception for <paramref name="reason"/>.</summary>
    public AggregationFailedException(AggregationFailure reason)
        : base($"Aggregation failed: {reason?.Describe()}", reason switch
        {
            FetcherFailed f => f.Exception,
            CombineFailed c => c.Exception,
            _ => null,
        })
    {
        ArgumentNullException.ThrowIfNull(reason);
        Reason = reason;
    }

    /// <summary>Why the request failed.</summary>
    public AggregationFailure Reason { get; }
}
