using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// Immutable builder of an aggregation: one request key fanned out to named fetchers whose parts combine into a
/// <typeparamref name="TResult"/>. Start one with <see cref="Aggregation.For{TKey}"/>, whose result is the parts' text
/// joined with <c>" | "</c> in declared order until <see cref="Combine{TOther}"/> says otherwise. Every method returns a new
/// builder; validation happens in <see cref="Build"/>.
/// </summary>
/// <typeparam name="TKey">The request key passed to every fetcher.</typeparam>
/// <typeparam name="TResult">The combined result.</typeparam>
public sealed class AggregationBuilder<TKey, TResult>
{
    private readonly DefinitionDraft<TKey> _draft;
    private readonly Func<AggregationParts, TResult>? _combine;

    internal AggregationBuilder(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult>? combine)
    {
        _draft = draft;
        _combine = combine;
    }

    private AggregationBuilder<TKey, TResult> With(DefinitionDraft<TKey> draft) => new(draft, _combine);

    /// <summary>
    /// Adds a fetcher. Each fetcher runs in its own child actor of the request's coordinator, concurrently with the others.
    /// The token it receives fires as soon as the request is decided or its actor stops: a sibling failed, the deadline
    /// passed, the request was cancelled, the requester died, the request completed, the aggregator or the system stopped.
    /// </summary>
    /// <param name="name">Unique, non-empty name; it identifies the part in the result, in logs and in failures.</param>
    /// <param name="fetch">The fetch, given the key and the token. It should honour its token; one that does not is abandoned, never awaited.</param>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch) =>
        With(_draft.AddDelegate(name, fetch, null, FetchOptions.None));

    /// <summary>Adds a fetcher that is retried within the request's deadline by <paramref name="retry"/>.</summary>
    /// <inheritdoc cref="Fetch{TPart}(string, Func{TKey, CancellationToken, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch, RetryPolicy retry) =>
        With(_draft.AddDelegate(name, fetch, null, new FetchOptions { Retry = retry ?? throw new ArgumentNullException(nameof(retry)) }));

    /// <summary>
    /// Adds a fetcher that receives a <see cref="FetchContext{TKey}"/>: the key, its token, the request id, the deadline,
    /// the attempt number, and once the token has fired, the cause (<c>context.Cause</c>).
    /// </summary>
    /// <param name="name">Unique, non-empty name; it identifies the part in the result, in logs and in failures.</param>
    /// <param name="fetch">The fetch. It should honour <c>context.CancellationToken</c>.</param>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<FetchContext<TKey>, Task<TPart>> fetch) =>
        With(_draft.AddDelegate(name, null, fetch, FetchOptions.None));

    /// <summary>Adds a context-aware fetcher that is retried within the request's deadline by <paramref name="retry"/>.</summary>
    /// <inheritdoc cref="Fetch{TPart}(string, Func{FetchContext{TKey}, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<FetchContext<TKey>, Task<TPart>> fetch, RetryPolicy retry) =>
        With(_draft.AddDelegate(name, null, fetch, new FetchOptions { Retry = retry ?? throw new ArgumentNullException(nameof(retry)) }));

    /// <summary>Adds a fetcher that runs as <paramref name="options"/> say (retries, and what else <see cref="FetchOptions"/> holds).</summary>
    /// <inheritdoc cref="Fetch{TPart}(string, Func{TKey, CancellationToken, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>> fetch, FetchOptions options) =>
        With(_draft.AddDelegate(name, fetch, null, options ?? throw new ArgumentNullException(nameof(options))));

    /// <summary>Adds a context-aware fetcher that runs as <paramref name="options"/> say.</summary>
    /// <inheritdoc cref="Fetch{TPart}(string, Func{FetchContext{TKey}, Task{TPart}})"/>
    public AggregationBuilder<TKey, TResult> Fetch<TPart>(string name, Func<FetchContext<TKey>, Task<TPart>> fetch, FetchOptions options) =>
        With(_draft.AddDelegate(name, null, fetch, options ?? throw new ArgumentNullException(nameof(options))));

    /// <summary>
    /// Adds a fetcher that is an actor conversation: its child actor sends <paramref name="message"/>(key) to
    /// <paramref name="target"/>, watches it, and maps the first reply with <paramref name="reply"/>. A <c>Status.Failure</c>
    /// reply, a reply that is not a <typeparamref name="TReply"/>, or the target's death fails the fetcher with that cause.
    /// The conversation is bounded by the request's deadline and stops with the group; a reply that comes after the request
    /// was decided is dropped, never a dead letter. A target on another node that dies fails the fetcher when Akka gives
    /// its node up; with <paramref name="failOnUnreachable"/>, as soon as the cluster reports the node unreachable (this
    /// needs Actors.Aggregation.Cluster's reachability feed: <c>ClusterAggregation.WatchReachability</c>, which the cluster
    /// front and <c>WithClusterAggregator</c> start), with an <see cref="AskTargetUnreachableException"/>.
    /// </summary>
    public AggregationBuilder<TKey, TResult> Ask<TReply, TPart>(string name, IActorRef target, Func<TKey, object> message, Func<TReply, TPart> reply,
        bool failOnUnreachable = false) =>
        With(_draft.AddAsk(name, target, null, message, reply, failOnUnreachable));

    /// <summary>As <see cref="Ask{TReply, TPart}(string, IActorRef, Func{TKey, object}, Func{TReply, TPart}, bool)"/>, resolving the target by path first (no actor there fails the fetcher).</summary>
    public AggregationBuilder<TKey, TResult> Ask<TReply, TPart>(string name, ActorPath target, Func<TKey, object> message, Func<TReply, TPart> reply,
        bool failOnUnreachable = false) =>
        With(_draft.AddAsk(name, null, target, message, reply, failOnUnreachable));

    /// <summary>
    /// Adds a fetcher that runs a nested aggregation on another <paramref name="aggregator"/> with the key <paramref name="key"/>(outer key).
    /// The inner request gets the time left of the outer deadline; cancelling the outer request cancels the inner one.
    /// An inner failure fails this fetcher with an <see cref="AggregationFailedException"/> carrying the inner reason.
    /// </summary>
    public AggregationBuilder<TKey, TResult> Nested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key) =>
        With(_draft.AddNested<TInnerKey, TInnerResult>(name, aggregator, key, FetchOptions.None));

    /// <summary>As <see cref="Nested{TInnerKey, TInnerResult}(string, IActorRef, Func{TKey, TInnerKey})"/>, run as <paramref name="options"/>
    /// say: an optional inner aggregation with a fallback, a budget of its own (the inner request then gets the smaller of
    /// that budget and the time left), retries or hedges.</summary>
    public AggregationBuilder<TKey, TResult> Nested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key, FetchOptions options) =>
        With(_draft.AddNested<TInnerKey, TInnerResult>(name, aggregator, key, options ?? throw new ArgumentNullException(nameof(options))));

    /// <summary>
    /// Sets the default deadline of each request, measured from its arrival at the aggregator. A request's own
    /// <see cref="Aggregate{TKey}.Timeout"/> overrides it; without either, <c>actors.aggregation.default-timeout</c> applies.
    /// Must be positive and at most <see cref="AggregationSettings.MaxTimeout"/> (checked at <see cref="Build"/>).
    /// </summary>
    public AggregationBuilder<TKey, TResult> WithTimeout(TimeSpan timeout) => With(_draft with { Timeout = timeout });

    /// <summary>
    /// errgroup's <c>SetLimit</c>: at most <paramref name="limit"/> fetcher actors are alive at once for a request. Fetchers start
    /// in declared order, the next as soon as one has finished and stopped; once the request is decided, no new fetcher starts.
    /// </summary>
    public AggregationBuilder<TKey, TResult> WithMaxConcurrency(int limit) => With(_draft with { MaxConcurrency = limit });

    /// <summary>
    /// Go's singleflight for aggregations: a request whose key equals (by <paramref name="comparer"/>, or the key type's own
    /// equality) that of a request still running on the same aggregator joins that run instead of fanning out again. Each
    /// requester still gets exactly one reply, with its own request id and measured against its own deadline (one whose
    /// deadline passes first gets <see cref="DeadlineExceeded"/> while the run goes on for the others); cancelling, dying or
    /// timing out leaves the run, which is cancelled only when every requester that joined it has left. A request that
    /// arrives once the run is decided starts a fresh run: nothing is cached, as singleflight's <c>Forget</c> is implicit.
    /// A run's fetches see one request id (the run's) and the latest deadline of its requesters.
    /// </summary>
    /// <param name="comparer">How keys compare; null uses <see cref="EqualityComparer{T}.Default"/>.</param>
    public AggregationBuilder<TKey, TResult> WithCoalescing(IEqualityComparer<TKey>? comparer = null) =>
        With(_draft with { Coalescing = comparer ?? EqualityComparer<TKey>.Default });

    /// <summary>When a request is complete: <see cref="CompletionPolicy.FailFast"/> (default), <see cref="CompletionPolicy.CollectAll"/>,
    /// <see cref="CompletionPolicy.FirstSuccess"/> or <see cref="CompletionPolicy.Quorum"/>.</summary>
    public AggregationBuilder<TKey, TResult> WithPolicy(CompletionPolicy policy) => With(_draft with { Policy = policy });

    /// <summary>Sets how the parts become the result. Without it, the result is each part's text joined with <c>" | "</c> in declared order.</summary>
    /// <param name="combine">Called once, on the coordinator, when the request is complete. An exception it throws fails the request with <see cref="CombineFailed"/>.</param>
    public AggregationBuilder<TKey, TOther> Combine<TOther>(Func<AggregationParts, TOther> combine) => new(_draft, combine);

    /// <summary>Validates and builds the definition.</summary>
    /// <exception cref="ArgumentException">No fetchers, an empty or duplicate name, a null delegate or target, a bad retry
    /// policy, a timeout not positive or over <see cref="AggregationSettings.MaxTimeout"/>, a concurrency limit below 1, a
    /// quorum larger than the number of fetchers, or a null combine.</exception>
    public AggregationDefinition<TKey, TResult> Build() => AggregationDefinition<TKey, TResult>.Create(_draft, _combine);
}
