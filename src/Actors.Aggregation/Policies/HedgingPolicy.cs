namespace Actors.Aggregation;

/// <summary>
/// Hedged fetches ("The Tail at Scale", Dean and Barroso; gRPC's hedging policy): when an attempt has not answered after
/// <see cref="Delay"/> (or after the latency at <see cref="Percentile"/> this aggregator has observed for the fetcher), the
/// next attempt starts while the first goes on, and the first success wins. Every other attempt's token then fires with
/// <see cref="CancellationCauseKind.AttemptLost"/>, naming the winner. A failure does not win while another attempt may
/// still succeed: it starts the next attempt at once if one is left, and the part fails only when no attempt is running and
/// none is left (with the last failure and the attempt count). No attempt starts after the request's deadline or after the
/// request was decided. All attempts run inside the fetcher's one actor, so its siblings never see them.
/// </summary>
/// <param name="MaxAttempts">Attempts in all, the first included, hence the most in flight at once: at least 2.</param>
public sealed record HedgingPolicy(int MaxAttempts)
{
    /// <summary>
    /// How long an attempt runs before the next one starts. With <see cref="Percentile"/> set, the delay used until the
    /// fetcher has <see cref="MinSamples"/> observed latencies. Default 100 ms; zero starts every attempt at once.
    /// </summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Hedge after the fetcher's observed latency at this percentile, a number between 0 and 1 exclusive (0.95 is p95),
    /// measured over its most recent first attempts on this aggregator; null for the fixed <see cref="Delay"/>. A first
    /// attempt that loses to a hedge is recorded with the time it had run, a lower bound, so the tail stays in view.
    /// </summary>
    public double? Percentile { get; init; }

    /// <summary>Observed latencies needed before <see cref="Percentile"/> replaces <see cref="Delay"/>. Default 20.</summary>
    public int MinSamples { get; init; } = 20;

    /// <summary>Hedge after a fixed <paramref name="delay"/>, with at most <paramref name="maxAttempts"/> attempts.</summary>
    public static HedgingPolicy After(TimeSpan delay, int maxAttempts = 2) => new(maxAttempts) { Delay = delay };

    /// <summary>Hedge after the observed latency at <paramref name="percentile"/>; <paramref name="initialDelay"/> until enough latencies are in (default 100 ms).</summary>
    public static HedgingPolicy AtPercentile(double percentile, int maxAttempts = 2, TimeSpan? initialDelay = null) =>
        new(maxAttempts) { Percentile = percentile, Delay = initialDelay ?? TimeSpan.FromMilliseconds(100) };

    internal void Validate(string fetcher)
    {
        if (MaxAttempts < 2) throw new ArgumentException($"Fetcher '{fetcher}': a hedging policy needs at least 2 attempts, but MaxAttempts was {MaxAttempts}.", "hedging");
        if (Delay < TimeSpan.Zero) throw new ArgumentException($"Fetcher '{fetcher}': the hedging delay must not be negative.", "hedging");
        if (Percentile is { } p && !(p > 0 && p < 1))
            throw new ArgumentException($"Fetcher '{fetcher}': the hedging percentile must be between 0 and 1 (exclusive), but was {p}.", "hedging");
        if (MinSamples < 1) throw new ArgumentException($"Fetcher '{fetcher}': MinSamples must be at least 1, but was {MinSamples}.", "hedging");
    }

    /// <inheritdoc />
    public override string ToString() =>
        Percentile is { } p ? $"Hedging({MaxAttempts} attempts after p{p * 100:0.#})" : $"Hedging({MaxAttempts} attempts after {Delay.TotalMilliseconds} ms)";
}
