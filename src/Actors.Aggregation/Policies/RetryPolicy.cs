namespace Actors.Aggregation;

/// <summary>
/// A per-fetcher retry budget, spent inside the fetcher's own actor so its siblings are untouched: a failure becomes the
/// group's failure only when the budget is spent or the error is not transient. Backoff is exponential with jitter, and
/// bounded by the request's deadline: no attempt starts, and no backoff waits, past it. Every failed attempt is logged at
/// Warning; the final <see cref="FetcherFailed"/> carries the attempt count.
/// </summary>
/// <param name="MaxAttempts">Attempts in all, the first included; at least 1.</param>
public sealed record RetryPolicy(int MaxAttempts)
{
    /// <summary>Backoff before the second attempt. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Upper bound of any one backoff. Default 5 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Each backoff is the previous one times this: a finite number of at least 1. Default 2.</summary>
    public double Multiplier { get; init; } = 2;

    /// <summary>Random spread of each backoff, as a fraction: 0.2 means ±20%. From 0 to 1; default 0.2.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Which failures are worth another attempt. Default: every exception.</summary>
    public Func<Exception, bool> IsTransient { get; init; } = static _ => true;

    /// <summary>A copy that retries only exceptions of type <typeparamref name="TException"/> (and those it already retried).</summary>
    public RetryPolicy Handle<TException>() where TException : Exception
    {
        var previous = ReferenceEquals(IsTransient, Everything) ? null : IsTransient;
        return this with { IsTransient = e => e is TException || (previous?.Invoke(e) ?? false) };
    }

    private static readonly Func<Exception, bool> Everything = new RetryPolicy(1).IsTransient;

    /// <summary>
    /// The backoff after failed attempt number <paramref name="attempt"/> (1-based), jitter applied, in milliseconds: a double,
    /// so that an enormous backoff is compared with the deadline rather than overflowing a <see cref="TimeSpan"/>.
    /// </summary>
    internal double BackoffMilliseconds(int attempt)
    {
        var nominal = InitialBackoff.TotalMilliseconds * Math.Pow(Multiplier, attempt - 1);
        var capped = Math.Min(nominal, MaxBackoff.TotalMilliseconds);
        var jittered = capped * (1 + Jitter * (2 * Random.Shared.NextDouble() - 1));
        return double.IsFinite(jittered) ? Math.Max(0, jittered) : double.MaxValue;
    }

    internal void Validate(string fetcher)
    {
        if (MaxAttempts < 1) throw new ArgumentException($"Fetcher '{fetcher}': MaxAttempts must be at least 1, but was {MaxAttempts}.", "retry");
        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < TimeSpan.Zero)
            throw new ArgumentException($"Fetcher '{fetcher}': backoffs must not be negative.", "retry");
        if (!double.IsFinite(Multiplier) || Multiplier < 1)
            throw new ArgumentException($"Fetcher '{fetcher}': Multiplier must be a finite number of at least 1, but was {Multiplier}.", "retry");
        if (!double.IsFinite(Jitter) || Jitter is < 0 or > 1)
            throw new ArgumentException($"Fetcher '{fetcher}': Jitter must be between 0 and 1, but was {Jitter}.", "retry");
        if (IsTransient is null) throw new ArgumentException($"Fetcher '{fetcher}': IsTransient must not be null.", "retry");
    }
}
