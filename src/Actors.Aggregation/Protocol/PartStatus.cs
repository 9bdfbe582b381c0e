namespace Actors.Aggregation;

/// <summary>The outcome of one part: every part under <see cref="CompletionPolicy.CollectAll"/>, and the optional parts that fell back in any reply.</summary>
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

    /// <summary>An optional part (<see cref="FetchOptions.Fallback"/>) failed or ran out of time and the request went on
    /// without it: <see cref="PartOutcome.Value"/> holds the fallback value (null when omitted), <see cref="PartOutcome.Error"/>
    /// why (the fetch's exception, or a <see cref="PartTimeoutException"/>).</summary>
    FellBack,
}
