namespace Actors.Aggregation;

/// <summary>One declared fetcher: how to start it and how to read its part from the finished task.</summary>
internal abstract class FetchStep<TKey>
{
    protected FetchStep(string name, int index)
    {
        Name = name;
        Index = index;
    }

    public string Name { get; }

    /// <summary>Position in declared order; also the slot of its part.</summary>
    public int Index { get; }

    public abstract bool HasDelegate { get; }

    /// <summary>
    /// Name of the fetcher's child actor: <see cref="Name"/>, escaped into a valid actor path element, so paths, logs and
    /// <see cref="LeakReport"/>s show which fetcher an actor runs. Read only after the definition validated the name.
    /// </summary>
    public string ActorName => _actorName ??= ActorNames.Escape(Name);

    private string? _actorName;

    /// <summary>Starts the fetch. May throw synchronously (user code before its first await) or return null.</summary>
    public abstract Task Start(TKey key, CancellationToken cancellationToken);

    /// <summary>The part of a task that completed successfully.</summary>
    public abstract object? ResultOf(Task completed);
}

internal sealed class DelegateFetchStep<TKey, TPart> : FetchStep<TKey>
{
    private readonly Func<TKey, CancellationToken, Task<TPart>> _fetch;

    public DelegateFetchStep(string name, int index, Func<TKey, CancellationToken, Task<TPart>> fetch) : base(name, index) =>
        _fetch = fetch;

    public override bool HasDelegate => _fetch is not null;

    public override Task Start(TKey key, CancellationToken cancellationToken) => _fetch(key, cancellationToken);

    public override object? ResultOf(Task completed) => ((Task<TPart>)completed).Result;
}
