namespace Actors.Aggregation;

/// <summary>
/// How one fetcher runs, beyond its fetch: given to <c>Fetch(name, fetch, options)</c> or <c>Nested(name, aggregator, key,
/// options)</c>. Every member is optional; an empty <see cref="FetchOptions"/> is a plain fetcher. A fetcher may retry or
/// hedge, not both (checked at <c>Build</c>).
/// </summary>
public sealed record FetchOptions
{
    /// <summary>A plain fetcher.</summary>
    public static readonly FetchOptions None = new();

    /// <summary>Retries within the request's deadline; null for a single attempt.</summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>
    /// Hedged attempts (The Tail at Scale): when the fetch has not answered after a delay, a second attempt starts and the
    /// first success wins. Null for a single attempt.
    /// </summary>
    public HedgingPolicy? Hedging { get; init; }

    /// <summary>
    /// This part's own budget, from its start, inside the request's deadline (which it never extends). When it runs out, the
    /// fetch's token fires with <see cref="CancellationCauseKind.PartTimedOut"/> and the part fails with a
    /// <see cref="PartTimeoutException"/>, or falls back when it is optional. Null: the request's deadline is the budget.
    /// Must be positive.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Makes the part optional: when it fails, or runs out of its own <see cref="Timeout"/> or of the request's deadline,
    /// the request goes on with this fallback (<c>Fallback.To(value)</c>) or without the part
    /// (<c>Fallback.Omit</c>), and its siblings are not cancelled. Null: the part is required and a
    /// failure counts under the definition's policy. Only under <see cref="CompletionPolicy.FailFast"/> and
    /// <see cref="CompletionPolicy.CollectAll"/>: in a race or a quorum every fetcher is already an alternative.
    /// </summary>
    public Fallback? Fallback { get; init; }
}
