namespace Actors.Aggregation;

/// <summary>
/// How one fetcher runs, beyond its fetch: given to <c>Fetch(name, fetch, options)</c>. Every member is optional; an empty
/// <see cref="FetchOptions"/> is a plain fetcher.
/// </summary>
public sealed record FetchOptions
{
    /// <summary>A plain fetcher.</summary>
    public static readonly FetchOptions None = new();

    /// <summary>Retries within the request's deadline; null for a single attempt.</summary>
    public RetryPolicy? Retry { get; init; }
}
