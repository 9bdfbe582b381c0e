namespace Actors.Aggregation;

/// <summary>The outcome of one part under <see cref="CompletionPolicy.CollectAll"/>.</summary>
public enum PartStatus
{
    /// <summary>The fetch succeeded; <see cref="PartOutcome.Value"/> holds its part.</summary>
    Succeeded,

    /// <summary>The fetch failed; <see cref="PartOutcome.Error"/> holds the exception it threw.</summary>
    Failed,

    /// <summary>The deadline passed while the fetch was running; its token fired.</summary>
    TimedOut,

    /// <summary>The deadline passed before the fetch could start (bounded concurrency).</summary>
    NotStarted,
}
