using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>One declared fetcher: its name, its place in declared order, and how its child actor is made.</summary>
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

    /// <summary>Throws the <see cref="ArgumentException"/> that <c>Build()</c> reports when the step is incomplete.</summary>
    public abstract void Validate();

    /// <summary>The child actor that runs this step for one request.</summary>
    public abstract Props CreateFetcher(FetcherInfo<TKey> info);

    /// <summary>
    /// Name of the fetcher's child actor: <see cref="Name"/>, escaped into a valid actor path element, so paths, logs and
    /// <see cref="LeakReport"/>s show which fetcher an actor runs. Read only after the definition validated the name.
    /// </summary>
    public string ActorName => _actorName ??= ActorNames.Escape(Name);

    private string? _actorName;
}

/// <summary>A step run as a task by a <see cref="Fetcher{TKey}"/>: a delegate, optionally retried within the deadline.</summary>
internal abstract class TaskFetchStep<TKey>(string name, int index) : FetchStep<TKey>(name, index)
{
    public sealed override Props CreateFetcher(FetcherInfo<TKey> info) => Fetcher<TKey>.Props(info);

    /// <summary>Starts the fetch. May throw synchronously (user code before its first await) or return null.</summary>
    public abstract Task Start(FetcherInfo<TKey> info, CancellationToken cancellationToken);

    /// <summary>The part of a task that completed successfully.</summary>
    public abstract object? ResultOf(Task completed);
}

internal sealed class DelegateFetchStep<TKey, TPart> : TaskFetchStep<TKey>
{
    private readonly Func<TKey, CancellationToken, Task<TPart>>? _fetch;
    private readonly Func<TKey, FetchContext, Task<TPart>>? _fetchWithContext;
    private readonly RetryPolicy? _retry;

    public DelegateFetchStep(string name, int index, Func<TKey, CancellationToken, Task<TPart>>? fetch,
        Func<TKey, FetchContext, Task<TPart>>? fetchWithContext, RetryPolicy? retry) : base(name, index)
    {
        _fetch = fetch;
        _fetchWithContext = fetchWithContext;
        _retry = retry;
    }

    public override void Validate()
    {
        if (_fetch is null && _fetchWithContext is null) throw new ArgumentException($"Fetcher '{Name}' has a null fetch delegate.", "fetch");
        _retry?.Validate(Name);
    }


    public override Task Start(FetcherInfo<TKey> info, CancellationToken cancellationToken) =>
        _retry is null ? Attempt(info, cancellationToken, 1) : Retrying(info, cancellationToken, _retry);

    public override object? ResultOf(Task completed) => ((Task<TPart>)completed).Result;

    private Task<TPart> Attempt(FetcherInfo<TKey> info, CancellationToken cancellationToken, int attempt) =>
        _fetch is not null
            ? _fetch(info.Request.Key, cancellationToken)
            : _fetchWithContext!(info.Request.Key, new FetchContext(info.Request, Name, attempt, cancellationToken));

    /// <summary>
    /// Retries inside this fetcher's actor, so siblings never notice a transient failure. No attempt starts and no backoff
    /// waits past the request's deadline: when the next backoff would end after it, the last failure is final at once.
    /// Written by hand rather than with Polly.Core because the deadline decision needs the next delay before committing
    /// to it, which Polly's ShouldHandle does not see; the loop is the whole of it.
    /// </summary>
    private async Task<TPart> Retrying(FetcherInfo<TKey> info, CancellationToken cancellationToken, RetryPolicy retry)
    {
        for (var attempt = 1; ; attempt++)
        {
            Exception failure;
            try
            {
                var task = Attempt(info, cancellationToken, attempt)
                    ?? throw new InvalidOperationException($"Fetcher '{Name}' returned a null Task.");
                return await task.ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = e;
            }

            if (attempt >= retry.MaxAttempts || !retry.IsTransient(failure))
                throw new AttemptsExhaustedException(attempt, failure);
            var backoff = retry.Backoff(attempt);
            var remaining = info.Request.Remaining;
            if (backoff >= remaining)
            {
                info.Runtime.Log.Warning(
                    "Fetch {Fetcher} of {RequestId} attempt {Attempt} failed ({Error}); no retry: a {DelayMs} ms backoff would pass the deadline ({RemainingMs} ms left)",
                    Name, info.Request.RequestId, attempt, failure.Message, backoff.TotalMilliseconds, Math.Max(0, remaining.TotalMilliseconds));
                throw new AttemptsExhaustedException(attempt, failure);
            }
            info.Runtime.Log.Warning("Fetch {Fetcher} of {RequestId} attempt {Attempt} of {MaxAttempts} failed ({Error}); retrying in {DelayMs} ms",
                Name, info.Request.RequestId, attempt, retry.MaxAttempts, failure.Message, backoff.TotalMilliseconds);
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A step whose child actor asks an existing actor and maps its reply.</summary>
internal sealed class AskFetchStep<TKey, TReply, TPart> : FetchStep<TKey>
{
    public AskFetchStep(string name, int index, IActorRef? target, ActorPath? path, Func<TKey, object> message, Func<TReply, TPart> map)
        : base(name, index)
    {
        Target = target;
        Path = path;
        Message = message;
        Map = map;
    }

    public IActorRef? Target { get; }
    public ActorPath? Path { get; }
    public Func<TKey, object> Message { get; }
    public Func<TReply, TPart> Map { get; }

    public override void Validate()
    {
        if (Target is null && Path is null) throw new ArgumentException($"Fetcher '{Name}' has no target actor.", "target");
        if (Message is null) throw new ArgumentException($"Fetcher '{Name}' has a null message function.", "message");
        if (Map is null) throw new ArgumentException($"Fetcher '{Name}' has a null reply mapping.", "reply");
    }

    public override Props CreateFetcher(FetcherInfo<TKey> info) => AskFetcher<TKey, TReply, TPart>.Props(this, info);

}

/// <summary>Carries the attempt count of a retried fetch's final failure through supervision.</summary>
internal sealed class AttemptsExhaustedException(int attempts, Exception last) : Exception(last.Message, last)
{
    public int Attempts { get; } = attempts;
}
