using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>Everything a builder has collected so far; immutable.</summary>
internal sealed record DefinitionDraft<TKey>(FetchStep<TKey>[] Steps, TimeSpan? Timeout, int? MaxConcurrency, CompletionPolicy Policy)
{
    public static readonly DefinitionDraft<TKey> Empty = new([], null, null, CompletionPolicy.FailFast);

    public DefinitionDraft<TKey> Add(FetchStep<TKey> step)
    {
        var steps = new FetchStep<TKey>[Steps.Length + 1];
        Steps.CopyTo(steps, 0);
        steps[^1] = step;
        return this with { Steps = steps };
    }

    public DefinitionDraft<TKey> AddDelegate<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>>? fetch,
        Func<TKey, FetchContext, Task<TPart>>? withContext, RetryPolicy? retry) =>
        Add(new DelegateFetchStep<TKey, TPart>(name, Steps.Length, fetch, withContext, retry));

    public DefinitionDraft<TKey> AddAsk<TReply, TPart>(string name, IActorRef? target, ActorPath? path, Func<TKey, object> message, Func<TReply, TPart> reply) =>
        Add(new AskFetchStep<TKey, TReply, TPart>(name, Steps.Length, target, path, message, reply));

    public DefinitionDraft<TKey> AddNested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key) =>
        aggregator is null || key is null
            ? AddDelegate<TInnerResult>(name, null, null, null)
            : AddDelegate<TInnerResult>(name, null,
                // The inner request gets what is left of the outer deadline, and the outer token: cancelling the outer
                // request sends CancelAggregate to the inner one, whose fetchers' tokens then fire.
                (outer, context) => aggregator.AggregateAsync<TInnerKey, TInnerResult>(
                    key(outer), context.Remaining > TimeSpan.Zero ? context.Remaining : TimeSpan.FromMilliseconds(1), context.CancellationToken),
                null);
}

/// <summary>
/// Immutable builder of an aggregation whose result is the default text combination of its parts.
/// Every method returns a new builder; validation happens in <see cref="Build"/>.
/// </summary>
/// <typeparam name="TKey">The request key passed to every fetcher.</typeparam>
public sealed class AggregationBuilder<TKey>
{
    private readonly DefinitionDraft<TKey> _draft;

    internal AggregationBuilder(DefinitionDraft<TKey> draft) => _draft = draft;

    /// <summary>
    /// Adds a fetcher. Each fetcher runs in its own child actor of the request's coordinator, concurrently with the others.
    /// The token it receives is cancelled as soon as its actor stops: a sibling failed, the deadline passed,
    /// the request was cancelled, the requester died, the aggregator or the system stopped.
    /// </summary>
    /// <param name="name">Unique, non-empty name; it identifies the part in the result, in logs and in failures.</param>
    /// <param name="fetch">The fetch. It should honour its token; one that does not is abandoned, never awaited.</param>
    public AggregationBuilder<TKey> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch) =>
        new(_draft.AddDelegate(name, fetch, null, null));

    /// <summary>Adds a fetcher that is retried within the request's deadline by <paramref name="retry"/>.</summary>
    /// <inheritdoc cref="Fetch{TPart}(string, Func{TKey, CancellationToken, Task{TPart}})"/>
    public AggregationBuilder<TKey> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch, RetryPolicy retry) =>
        new(_draft.AddDelegate(name, fetch, null, retry ?? throw new ArgumentNullException(nameof(retry))));

    /// <summary>
    /// Adds a fetcher that receives a <see cref="FetchContext"/>: its token, the request id, the deadline, the attempt number,
    /// and once cancelled, the cause (<c>context.Cause</c>).
    /// </summary>
    public AggregationBuilder<TKey> Fetch<TPart>(string name, Func<TKey, FetchContext, Task<TPart>> fetch) =>
        new(_draft.AddDelegate(name, null, fetch, null));

    /// <summary>Adds a context-aware fetcher that is retried within the request's deadline by <paramref name="retry"/>.</summary>
    public AggregationBuilder<TKey> Fetch<TPart>(string name, Func<TKey, FetchContext, Task<TPart>> fetch, RetryPolicy retry) =>
        new(_draft.AddDelegate(name, null, fetch, retry ?? throw new ArgumentNullException(nameof(retry))));

    /// <summary>
    /// Adds a fetcher that is an actor conversation: its child actor sends <paramref name="message"/>(key) to
    /// <paramref name="target"/>, watches it, and maps the first reply with <paramref name="reply"/>. A <c>Status.Failure</c>
    /// reply, a reply that is not a <typeparamref name="TReply"/>, or the target's death fails the fetcher with that cause.
    /// The conversation is bounded by the request's deadline and stops with the group.
    /// </summary>
    public AggregationBuilder<TKey> Ask<TReply, TPart>(string name, IActorRef target, Func<TKey, object> message, Func<TReply, TPart> reply) =>
        new(_draft.AddAsk(name, target, null, message, reply));

    /// <summary>As <see cref="Ask{TReply, TPart}(string, IActorRef, Func{TKey, object}, Func{TReply, TPart})"/>, resolving the target by path first (no actor there fails the fetcher).</summary>
    public AggregationBuilder<TKey> Ask<TReply, TPart>(string name, ActorPath target, Func<TKey, object> message, Func<TReply, TPart> reply) =>
        new(_draft.AddAsk(name, null, target, message, reply));

    /// <summary>
    /// Adds a fetcher that runs a nested aggregation on another <paramref name="aggregator"/> with the key <paramref name="key"/>(outer key).
    /// The inner request gets the time left of the outer deadline; cancelling the outer request cancels the inner one.
    /// An inner failure fails this fetcher with an <see cref="AggregationFailedException"/> carrying the inner reason.
    /// </summary>
    public AggregationBuilder<TKey> Nested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key) =>
        new(_draft.AddNested<TInnerKey, TInnerResult>(name, aggregator, key));

    /// <summary>
    /// Sets the default deadline of each request, measured from its arrival at the aggregator.
    /// A request's own <see cref="Aggregate{TKey}.Timeout"/> overrides it; without either,
    /// <c>actors.aggregation.default-timeout</c> applies.
    /// </summary>
    public AggregationBuilder<TKey> WithTimeout(TimeSpan timeout) => new(_draft with { Timeout = timeout });

    /// <summary>
    /// errgroup's <c>SetLimit</c>: at most <paramref name="limit"/> fetcher actors are alive at once for a request. Fetchers start
    /// in declared order, the next as soon as one finishes; once the request has failed, no new fetcher starts.
    /// </summary>
    public AggregationBuilder<TKey> WithMaxConcurrency(int limit) => new(_draft with { MaxConcurrency = limit });

    /// <summary>When a request is complete: <see cref="CompletionPolicy.FailFast"/> (default), <see cref="CompletionPolicy.CollectAll"/>,
    /// <see cref="CompletionPolicy.FirstSuccess"/> or <see cref="CompletionPolicy.Quorum"/>.</summary>
    public AggregationBuilder<TKey> WithPolicy(CompletionPolicy policy) => new(_draft with { Policy = policy });

    /// <summary>Sets how the parts become the result. Without it, the result is each part's text joined with <c>" | "</c> in declared order.</summary>
    /// <param name="combine">Called once, on the coordinator, when the request completes. An exception it throws fails the request with <see cref="CombineFailed"/>.</param>
    public AggregationBuilder<TKey, TResult> Combine<TResult>(Func<AggregationParts, TResult> combine) => new(_draft, combine);

    /// <summary>Validates and builds the definition; the result is the parts' text joined with <c>" | "</c> in declared order.</summary>
    /// <exception cref="ArgumentException">No fetchers, an empty or duplicate name, a null delegate, a non-positive timeout,
    /// a concurrency limit below 1, or a quorum larger than the number of fetchers.</exception>
    public AggregationDefinition<TKey, string> Build() => AggregationDefinition<TKey, string>.Create(_draft, AggregationParts.JoinText, combineIsDefault: true);
}

/// <summary>Immutable builder of an aggregation with a custom <c>Combine</c>.</summary>
/// <typeparam name="TKey">The request key passed to every fetcher.</typeparam>
/// <typeparam name="TResult">The combined result.</typeparam>
public sealed class AggregationBuilder<TKey, TResult>
{
    private readonly DefinitionDraft<TKey> _draft;
    private readonly Func<AggregationParts, TResult> _combine;

    internal AggregationBuilder(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult> combine)
    {
        _draft = draft;
        _combine = combine;
    }

    /// <inheritdoc cref="AggregationBuilder{TKey}.Fetch{TPart}(string, Func{TKey, CancellationToken, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch) =>
        new(_draft.AddDelegate(name, fetch, null, null), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Fetch{TPart}(string, Func{TKey, CancellationToken, Task{TPart}}, RetryPolicy)"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch, RetryPolicy retry) =>
        new(_draft.AddDelegate(name, fetch, null, retry ?? throw new ArgumentNullException(nameof(retry))), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Fetch{TPart}(string, Func{TKey, FetchContext, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, FetchContext, Task<TPart>> fetch) =>
        new(_draft.AddDelegate(name, null, fetch, null), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Fetch{TPart}(string, Func{TKey, FetchContext, Task{TPart}}, RetryPolicy)"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, FetchContext, Task<TPart>> fetch, RetryPolicy retry) =>
        new(_draft.AddDelegate(name, null, fetch, retry ?? throw new ArgumentNullException(nameof(retry))), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Ask{TReply, TPart}(string, IActorRef, Func{TKey, object}, Func{TReply, TPart})"/>
    public AggregationBuilder<TKey, TResult> Ask<TReply, TPart>(string name, IActorRef target, Func<TKey, object> message, Func<TReply, TPart> reply) =>
        new(_draft.AddAsk(name, target, null, message, reply), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Ask{TReply, TPart}(string, ActorPath, Func{TKey, object}, Func{TReply, TPart})"/>
    public AggregationBuilder<TKey, TResult> Ask<TReply, TPart>(string name, ActorPath target, Func<TKey, object> message, Func<TReply, TPart> reply) =>
        new(_draft.AddAsk(name, null, target, message, reply), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Nested{TInnerKey, TInnerResult}"/>
    public AggregationBuilder<TKey, TResult> Nested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key) =>
        new(_draft.AddNested<TInnerKey, TInnerResult>(name, aggregator, key), _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.WithTimeout"/>
    public AggregationBuilder<TKey, TResult> WithTimeout(TimeSpan timeout) => new(_draft with { Timeout = timeout }, _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.WithMaxConcurrency"/>
    public AggregationBuilder<TKey, TResult> WithMaxConcurrency(int limit) => new(_draft with { MaxConcurrency = limit }, _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.WithPolicy"/>
    public AggregationBuilder<TKey, TResult> WithPolicy(CompletionPolicy policy) => new(_draft with { Policy = policy }, _combine);

    /// <inheritdoc cref="AggregationBuilder{TKey}.Combine{TResult}"/>
    public AggregationBuilder<TKey, TOther> Combine<TOther>(Func<AggregationParts, TOther> combine) => new(_draft, combine);

    /// <summary>Validates and builds the definition.</summary>
    /// <exception cref="ArgumentException">As <see cref="AggregationBuilder{TKey}.Build"/>, or a null combine.</exception>
    public AggregationDefinition<TKey, TResult> Build() => AggregationDefinition<TKey, TResult>.Create(_draft, _combine, combineIsDefault: false);
}
