namespace Actors.Aggregation;

/// <summary>
/// A part ran out of its own budget (<see cref="FetchOptions.Timeout"/>), or an optional part was still running when the
/// request's deadline passed. The fetch's token fired with <see cref="CancellationCauseKind.PartTimedOut"/>; the fetch itself
/// may still be running, and is abandoned like any fetch that ignores its token.
/// </summary>
public sealed class PartTimeoutException : TimeoutException
{
    /// <summary>Creates the exception for <paramref name="fetcher"/> and its <paramref name="budget"/>.</summary>
    public PartTimeoutException(string fetcher, TimeSpan budget, string message) : base(message)
    {
        Fetcher = fetcher;
        Budget = budget;
    }

    /// <summary>The fetcher that ran out of time.</summary>
    public string Fetcher { get; }

    /// <summary>The budget it had: its own timeout, or the request's.</summary>
    public TimeSpan Budget { get; }

    internal static PartTimeoutException OwnBudget(string fetcher, TimeSpan budget) =>
        new(fetcher, budget, $"Fetcher '{fetcher}' ran out of its own {budget.TotalMilliseconds} ms budget.");

    internal static PartTimeoutException RequestDeadline(string fetcher, TimeSpan budget, bool started) =>
        new(fetcher, budget, started
            ? $"The request's {budget.TotalMilliseconds} ms deadline passed before fetcher '{fetcher}' finished."
            : $"The request's {budget.TotalMilliseconds} ms deadline passed before fetcher '{fetcher}' could start.");
}
