namespace Actors.Aggregation.Testing;

/// <summary>Thrown by <see cref="AggregationAssert.NoLeaksAsync"/>: something outlived its request.</summary>
public sealed class AggregationLeakException : Exception
{
    /// <summary>Creates the exception for <paramref name="aggregatorPath"/>, still not quiet after <paramref name="waited"/>.</summary>
    public AggregationLeakException(string aggregatorPath, TimeSpan waited, LeakReport report)
        : base($"Aggregator {aggregatorPath} still runs work after {waited.TotalMilliseconds:0} ms: {report?.Describe()}")
    {
        ArgumentNullException.ThrowIfNull(report);
        AggregatorPath = aggregatorPath;
        Report = report;
    }

    /// <summary>The path of the aggregator checked.</summary>
    public string AggregatorPath { get; }

    /// <summary>The last report: what was still running when the wait ended.</summary>
    public LeakReport Report { get; }
}
