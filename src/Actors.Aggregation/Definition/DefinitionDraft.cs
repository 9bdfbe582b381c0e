using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>Everything a builder has collected so far; immutable.</summary>
internal sealed record DefinitionDraft<TKey>(FetchStep<TKey>[] Steps, TimeSpan? Timeout, int? MaxConcurrency, CompletionPolicy Policy)
{
    /// <summary>Requests for an equal key share one run (<c>WithCoalescing</c>); keys compared by this, or null when off.</summary>
    public IEqualityComparer<TKey>? Coalescing { get; init; }

    public static readonly DefinitionDraft<TKey> Empty = new([], null, null, CompletionPolicy.FailFast);

    public DefinitionDraft<TKey> Add(FetchStep<TKey> step)
    {
        var steps = new FetchStep<TKey>[Steps.Length + 1];
        Steps.CopyTo(steps, 0);
        steps[^1] = step;
        return this with { Steps = steps };
    }

    public DefinitionDraft<TKey> AddDelegate<TPart>(string name, Func<TKey, CancellationToken, Task<TPart>>? fetch,
        Func<FetchContext<TKey>, Task<TPart>>? withContext, FetchOptions options) =>
        Add(new DelegateFetchStep<TKey, TPart>(name, Steps.Length, fetch, withContext, options));

    public DefinitionDraft<TKey> AddAsk<TReply, TPart>(string name, IActorRef? target, ActorPath? path, Func<TKey, object> message, Func<TReply, TPart> reply,
        bool failOnUnreachable) =>
        Add(new AskFetchStep<TKey, TReply, TPart>(name, Steps.Length, target, path, message, reply) { FailOnUnreachable = failOnUnreachable });

    public DefinitionDraft<TKey> AddNested<TInnerKey, TInnerResult>(string name, IActorRef aggregator, Func<TKey, TInnerKey> key, FetchOptions options) =>
        aggregator is null || key is null
            ? AddDelegate<TInnerResult>(name, null, null, options)
            : AddDelegate<TInnerResult>(name, null,
                // The inner request gets what is left of the outer deadline, and the outer token: cancelling the outer
                // request sends CancelAggregate to the inner one, whose fetchers' tokens then fire.
                context => aggregator.AggregateAsync<TInnerKey, TInnerResult>(
                    key(context.Key), context.Remaining > TimeSpan.Zero ? context.Remaining : TimeSpan.FromMilliseconds(1), context.CancellationToken),
                options);
}
