namespace Actors.Aggregation;

/// <summary>
/// Immutable builder of an aggregation whose result is the default text combination of its parts.
/// Every method returns a new builder; validation happens in <see cref="Build"/>.
/// </summary>
/// <typeparam name="TKey">The request key passed to every fetcher.</typeparam>
public sealed class AggregationBuilder<TKey>
{
    private readonly FetchStep<TKey>[] _steps;
    private readonly TimeSpan? _timeout;

    internal AggregationBuilder(FetchStep<TKey>[] steps, TimeSpan? timeout)
    {
        _steps = steps;
        _timeout = timeout;
    }

    /// <summary>
    /// Adds a fetcher. Each fetcher runs in its own child actor of the request's coordinator, concurrently with the others.
    /// The token it receives is cancelled as soon as its actor stops: a sibling failed, the deadline passed,
    /// the request was cancelled, the requester died, the aggregator or the system stopped.
    /// </summary>
    /// <param name="name">Unique, non-empty name; it identifies the part in the result, in logs and in failures.</param>
    /// <param name="fetch">The fetch. It should honour its token; one that does not is abandoned, never awaited.</param>
    public AggregationBuilder<TKey> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch) =>
        new(Append(_steps, new DelegateFetchStep<TKey, TPart>(name, _steps.Length, fetch)), _timeout);

    /// <summary>
    /// Sets the default deadline of each request, measured from its arrival at the aggregator.
    /// A request's own <see cref="Aggregate{TKey}.Timeout"/> overrides it; without either,
    /// <c>actors.aggregation.default-timeout</c> applies.
    /// </summary>
    public AggregationBuilder<TKey> WithTimeout(TimeSpan timeout) => new(_steps, timeout);

    /// <summary>Sets how the parts become the result. Without it, the result is each part's text joined with <c>" | "</c> in declared order.</summary>
    /// <param name="combine">Called once, on the coordinator, when every part has arrived. An exception it throws fails the request with <see cref="CombineFailed"/>.</param>
    public AggregationBuilder<TKey, TResult> Combine<TResult>(Func<AggregationParts, TResult> combine) =>
        new(_steps, _timeout, combine);

    /// <summary>Validates and builds the definition; the result is the parts' text joined with <c>" | "</c> in declared order.</summary>
    /// <exception cref="ArgumentException">No fetchers, an empty or duplicate name, a null delegate or a non-positive timeout.</exception>
    public AggregationDefinition<TKey, string> Build() =>
        AggregationDefinition<TKey, string>.Create(_steps, _timeout, AggregationParts.JoinText, combineIsDefault: true);

    internal static FetchStep<TKey>[] Append(FetchStep<TKey>[] steps, FetchStep<TKey> step)
    {
        var next = new FetchStep<TKey>[steps.Length + 1];
        steps.CopyTo(next, 0);
        next[^1] = step;
        return next;
    }
}

/// <summary>Immutable builder of an aggregation with a custom <c>Combine</c>.</summary>
/// <typeparam name="TKey">The request key passed to every fetcher.</typeparam>
/// <typeparam name="TResult">The combined result.</typeparam>
public sealed class AggregationBuilder<TKey, TResult>
{
    private readonly FetchStep<TKey>[] _steps;
    private readonly TimeSpan? _timeout;
    private readonly Func<AggregationParts, TResult> _combine;

    internal AggregationBuilder(FetchStep<TKey>[] steps, TimeSpan? timeout, Func<AggregationParts, TResult> combine)
    {
        _steps = steps;
        _timeout = timeout;
        _combine = combine;
    }

    /// <inheritdoc cref="AggregationBuilder{TKey}.Fetch{TPart}"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch) =>
        new(AggregationBuilder<TKey>.Append(_steps, new DelegateFetchStep<TKey, TPart>(name, _steps.Length, fetch)), _timeout, _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.WithTimeout"/>
    public AggregationBuilder<TKey, TResult> WithTimeout(TimeSpan timeout) => new(_steps, timeout, _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Combine{TResult}"/>
    public AggregationBuilder<TKey, TOther> Combine<TOther>(Func<AggregationParts, TOther> combine) => new(_steps, _timeout, combine);

    /// <summary>Validates and builds the definition.</summary>
    /// <exception cref="ArgumentException">No fetchers, an empty or duplicate name, a null delegate, a null combine or a non-positive timeout.</exception>
    public AggregationDefinition<TKey, TResult> Build() =>
        AggregationDefinition<TKey, TResult>.Create(_steps, _timeout, _combine, combineIsDefault: false);
}
