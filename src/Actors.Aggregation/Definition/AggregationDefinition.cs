namespace Actors.Aggregation;

/// <summary>
/// An immutable, validated aggregation: named fetchers in declared order, how their parts combine, and the default deadline.
/// Build one with <see cref="Aggregation.For{TKey}"/> and run it with <see cref="AggregatorActor.Props{TKey, TResult}(AggregationDefinition{TKey, TResult}, AggregationSettings?)"/>.
/// A definition holds no state of its own, so one instance may serve any number of aggregators.
/// </summary>
public sealed class AggregationDefinition<TKey, TResult>
{
    private AggregationDefinition(FetchStep<TKey>[] steps, TimeSpan? timeout, Func<AggregationParts, TResult> combine)
    {
        Steps = steps;
        Timeout = timeout;
        Combine = combine;
        var names = new string[steps.Length];
        for (var i = 0; i < steps.Length; i++) names[i] = steps[i].Name;
        FetcherNames = names;
    }

    /// <summary>The fetchers' names, in declared order: the order of the parts and of the default combined text.</summary>
    public IReadOnlyList<string> FetcherNames { get; }

    /// <summary>The definition's default deadline, or null to use <c>actors.aggregation.default-timeout</c>.</summary>
    public TimeSpan? Timeout { get; }

    internal FetchStep<TKey>[] Steps { get; }

    internal Func<AggregationParts, TResult> Combine { get; }

    internal static AggregationDefinition<TKey, TResult> Create(
        FetchStep<TKey>[] steps, TimeSpan? timeout, Func<AggregationParts, TResult>? combine, bool combineIsDefault)
    {
        if (steps.Length == 0)
            throw new ArgumentException("An aggregation needs at least one fetcher: call Fetch(name, fetch) before Build().", nameof(steps));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            if (string.IsNullOrWhiteSpace(step.Name))
                throw new ArgumentException($"Fetcher #{step.Index + 1} has an empty name; every fetcher needs a unique, non-empty name.", "name");
            if (!seen.Add(step.Name))
                throw new ArgumentException($"Fetcher name '{step.Name}' is used twice; fetcher names must be unique.", "name");
            if (!step.HasDelegate)
                throw new ArgumentException($"Fetcher '{step.Name}' has a null fetch delegate.", "fetch");
        }
        if (timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentException($"The timeout must be positive, but was {t}.", nameof(timeout));
        if (combine is null && !combineIsDefault)
            throw new ArgumentException("Combine was given a null function.", nameof(combine));
        return new AggregationDefinition<TKey, TResult>(steps, timeout, combine!);
    }
}
