using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// What every aggregation over a <typeparamref name="TKey"/> has, whatever its result type: its fetchers, policy, limit and
/// default deadline. Hosts take this type, so that one registration serves any <c>Combine</c>; run it with
/// <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?)"/>. The only implementation is
/// <see cref="AggregationDefinition{TKey, TResult}"/>, made by <see cref="AggregationBuilder{TKey, TResult}.Build"/>.
/// </summary>
/// <typeparam name="TKey">The request key.</typeparam>
public abstract class AggregationDefinition<TKey>
{
    private protected AggregationDefinition(DefinitionDraft<TKey> draft)
    {
        Draft = draft;
        Steps = draft.Steps;
        Timeout = draft.Timeout;
        Policy = draft.Policy;
        MaxConcurrency = draft.MaxConcurrency is { } limit && limit < draft.Steps.Length ? limit : null;
        var names = new string[Steps.Length];
        for (var i = 0; i < Steps.Length; i++) names[i] = Steps[i].Name;
        FetcherNames = names;
        KeyComparer = draft.Coalescing;
        if (Steps.Any(s => s.Fallback is not null)) Fallbacks = Steps.Select(s => s.Fallback).ToArray();
    }

    /// <summary>True when requests for an equal key share one run (<c>WithCoalescing</c>).</summary>
    public bool Coalesces => KeyComparer is not null;

    /// <summary>How a coalescing definition compares keys; null when it does not coalesce.</summary>
    internal IEqualityComparer<TKey>? KeyComparer { get; }

    /// <summary>The fetchers' names, in declared order: the order of the parts and of the default combined text.</summary>
    public IReadOnlyList<string> FetcherNames { get; }

    /// <summary>The definition's default deadline, or null to use <c>actors.aggregation.default-timeout</c>.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>When a request is complete; <see cref="CompletionPolicy.FailFast"/> unless set.</summary>
    public CompletionPolicy Policy { get; }

    /// <summary>The most fetcher actors alive at once per request, or null when all start at once.</summary>
    public int? MaxConcurrency { get; }

    /// <summary>The type of the combined result: what <c>AggregateAsync</c> callers name as <c>TResult</c>.</summary>
    public abstract Type ResultType { get; }

    /// <summary>A copy with another default deadline, validated like <c>WithTimeout</c> on the builder (used by hosts whose configuration overrides it).</summary>
    /// <exception cref="ArgumentException"><paramref name="timeout"/> is not positive or over <see cref="AggregationSettings.MaxTimeout"/>.</exception>
    public abstract AggregationDefinition<TKey> WithTimeout(TimeSpan timeout);

    internal DefinitionDraft<TKey> Draft { get; }

    internal FetchStep<TKey>[] Steps { get; }

    /// <summary>Each part's fallback by index (null for a required part), or null when every part is required.</summary>
    internal Fallback?[]? Fallbacks { get; }

    /// <summary>The aggregator actor that runs this definition.</summary>
    internal abstract Props AggregatorProps(AggregationSettings? settings, FaultInjection? faults);

    /// <summary>Throws the <see cref="ArgumentException"/> that <c>Build()</c> reports for an invalid draft.</summary>
    private protected static void Validate(DefinitionDraft<TKey> draft)
    {
        var steps = draft.Steps;
        if (steps.Length == 0)
            throw new ArgumentException("An aggregation needs at least one fetcher: call Fetch(name, fetch) before Build().", "fetch");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var actorNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            if (string.IsNullOrWhiteSpace(step.Name))
                throw new ArgumentException($"Fetcher #{step.Index + 1} has an empty name; every fetcher needs a unique, non-empty name.", "name");
            if (!names.Add(step.Name))
                throw new ArgumentException($"Fetcher name '{step.Name}' is used twice; fetcher names must be unique.", "name");
            // Escaping is injective, so distinct names never share an actor name; checked anyway, since a clash would fail every request.
            if (!actorNames.Add(step.ActorName))
                throw new ArgumentException($"Fetcher name '{step.Name}' maps to the actor name of another fetcher.", "name");
            step.Validate();
        }
        if (draft.Timeout is { } timeout) AggregationSettings.ValidateTimeout(timeout, "The timeout", "timeout");
        if (draft.MaxConcurrency is { } limit && limit < 1)
            throw new ArgumentException($"The concurrency limit must be at least 1, but was {limit}.", "limit");
        if (draft.Policy is null)
            throw new ArgumentException("The completion policy must not be null.", "policy");
        draft.Policy.Validate(steps.Length, steps.Count(s => s.Fallback is not null));
    }
}
