namespace Actors.Aggregation;

/// <summary>A fetch whose actor has stopped (its token has fired) but whose task still runs.</summary>
/// <param name="RequestId">The request it served.</param>
/// <param name="Fetcher">The fetcher's name.</param>
/// <param name="SinceTokenFired">How long ago its actor stopped and its token fired.</param>
/// <param name="Abandoned">True once it has been running <c>abandoned-fetch-grace</c> past its token: it ignores its token.</param>
public sealed record LingeringFetch(string RequestId, string Fetcher, TimeSpan SinceTokenFired, bool Abandoned)
{
    /// <summary>For example <c>fetcher 'orders' of request 'r-7', 1200 ms after its token fired (abandoned)</c>.</summary>
    public string Describe() =>
        $"fetcher '{Fetcher}' of request '{RequestId}', {SinceTokenFired.TotalMilliseconds:0} ms after its token fired{(Abandoned ? " (abandoned: it ignores its token)" : "")}";
}
