namespace Actors.Aggregation;

/// <summary>
/// An immutable, validated aggregation: named fetchers in declared order, how their parts combine, the completion policy,
/// the concurrency limit and the default deadline. Build one with <see cref="Aggregation.For{TKey}"/> and run it with
/// <see cref="AggregatorActor.Props{TKey, TResult}(AggregationDefinition{TKey, TResult}, AggregationSettings?)"/>.
/// A definition holds no state of its own, so one instance may serve any number of aggregators.
/// </summary>
public sealed class AggregationDefinition<TKey, TResult>
{
    private readonly DefinitionDraft<TKey> _draft;

    private AggregationDefinition(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult> combine)
    {
        _draft = draft;
        Steps = draft.Steps;
        Timeout = draft.Timeout;
        Policy = draft.Policy;
        MaxConcurrency = draft.MaxConcurrency is { } limit && limit < draft.Steps.Length ? limit : null;
        Combine = combine;
        var names = new string[Steps.Length];
        for (var i = 0; i < Steps.Length; i++) names[i] = Steps[i].Name;
        FetcherNames = names;
    }

    /// <summary>The fetchers' names, in declared order: the order of the parts and of the default combined text.</summary>
    public IReadOnlyList<string> FetcherNames { get; }

    /// <summary>The definition's default deadline, or null to use <c>actors.aggregation.default-timeout</c>.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>When a request is complete; <see cref="CompletionPolicy.FailFast"/> unless set.</summary>
    public CompletionPolicy Policy { get; }

    /// <summary>The most fetcher actors alive at once per request, or null when all start at once.</summary>
    public int? MaxConcurrency { get; }

    /// <summary>A copy with another default deadline, validated like <c>WithTimeout</c> on the builder (used by hosts whose configuration overrides it).</summary>
    /// <exception cref="ArgumentException"><paramref name="timeout"/> is not positive.</exception>
    public AggregationDefinition<TKey, TResult> WithTimeout(TimeSpan timeout) => Create(_draft with { Timeout = timeout }, Combine, combineIsDefault: false);

    internal FetchStep<TKey>[] Steps { get; }

    internal Func<AggregationParts, TResult> Combine { get; }

    internal static AggregationDefinition<TKey, TResult> Create(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult>? combine, bool combineIsDefault)
    {
        var steps = draft.Steps;
        if (steps.Length == 0)
            throw new ArgumentException("An aggregation needs at least one fetcher: call Fetch(name, fetch) before Build().", "fetch");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            if (string.IsNullOrWhiteSpace(step.Name))
                throw new ArgumentException($"Fetcher #{step.Index + 1} has an empty name; every fetcher needs a unique, non-empty name.", "name");
            if (!seen.Add(step.Name))
                throw new ArgumentException($"Fetcher name '{step.Name}' is used twice; fetcher names must be unique.", "name");
            step.Validate();
        }
        if (draft.Timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentException($"The timeout must be positive, but was {t}.", "timeout");
        if (draft.MaxConcurrency is { } limit && limit < 1)
            throw new ArgumentException($"The concurrency limit must be at least 1, but was {limit}.", "limit");
        if (draft.Policy is null)
            throw new ArgumentException("The completion policy must not be null.", "policy");
        if (draft.Policy is CompletionPolicy.QuorumPolicy { Required: var required } && required > steps.Length)
            throw new ArgumentException($"{draft.Policy} needs {required} successes but there are only {steps.Length} fetchers.", "policy");
        if (combine is null && !combineIsDefault)
            throw new ArgumentException("Combine was given a null function.", nameof(combine));
        return new AggregationDefinition<TKey, TResult>(draft, combine!);
    }
}
