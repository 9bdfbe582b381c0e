namespace Actors.Aggregation;

/// <summary>Values as the library's log events carry them.</summary>
internal static class LogValues
{
    /// <summary>A duration in milliseconds to a tenth: <c>4999.8</c>, not <c>4999.8102</c>; still a number for structured sinks.</summary>
    public static double Milliseconds(TimeSpan duration) => Math.Round(duration.TotalMilliseconds, 1);
}
