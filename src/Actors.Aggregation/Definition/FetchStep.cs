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

    /// <summary>The child actor that runs this step for one request; <paramref name="attempts"/> counts a retried step's attempts.</summary>
    public abstract Props CreateFetcher(FetcherSetup<TKey> setup, AttemptCounter? attempts);

    /// <summary>True when the step may make more than one attempt, so its attempts are counted.</summary>
    public virtual bool Retries => false;

    /// <summary>
    /// Name of the fetcher's child actor: <see cref="Name"/>, escaped into a valid actor path element (injectively, so
    /// distinct names never collide), so paths, logs and <see cref="LeakReport"/>s show which fetcher an actor runs.
    /// </summary>
    public string ActorName => _actorName ??= ActorNames.Escape(Name);

    private string? _actorName;

    /// <summary>The failure of this step: <paramref name="error"/> itself, with the attempt count when a retry policy spent its budget.</summary>
    public FetcherFailed FailureOf(Exception error) =>
        error is AttemptsExhaustedException exhausted
            ? new FetcherFailed(Name, exhausted.InnerException!) { Attempts = exhausted.Attempts }
            : new FetcherFailed(Name, error);
}

/// <summary>A step run as a task by a <see cref="Fetcher{TKey}"/>: a delegate, optionally retried within the deadline.</summary>
internal abstract class TaskFetchStep<TKey>(string name, int index) : FetchStep<TKey>(name, index)
{
    public sealed override Props CreateFetcher(FetcherSetup<TKey> setup, AttemptCounter? attempts) => Fetcher<TKey>.Props(this, setup, attempts);

    /// <summary>Starts the fetch. May throw synchronously (user code before its first await) or return null.</summary>
    public abstract Task Start(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, AttemptCounter? attempts);

    /// <summary>The part of a task that completed successfully.</summary>
    public abstract object? ResultOf(Task completed);
}

internal sealed class DelegateFetchStep<TKey, TPart> : TaskFetchStep<TKey>
{
    private readonly Func<TKey, CancellationToken, Task<TPart>>? _fetch;
    private readonly Func<FetchContext<TKey>, Task<TPart>>? _fetchWithContext;
    private readonly RetryPolicy? _retry;

    public DelegateFetchStep(string name, int index, Func<TKey, CancellationToken, Task<TPart>>? fetch,
        Func<FetchContext<TKey>, Task<TPart>>? fetchWithContext, FetchOptions options) : base(name, index)
    {
        _fetch = fetch;
        _fetchWithContext = fetchWithContext;
        _retry = options.Retry;
    }

    public override void Validate()
    {
        if (_fetch is null && _fetchWithContext is null) throw new ArgumentException($"Fetcher '{Name}' has a null fetch delegate.", "fetch");
        _retry?.Validate(Name);
    }

    public override bool Retries => _retry is not null;

    public override Task Start(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, AttemptCounter? attempts) =>
        _retry is null ? Attempt(setup, cancellationToken, causes, 1) : Retrying(setup, cancellationToken, causes, _retry, attempts!);

    public override object? ResultOf(Task completed) => ((Task<TPart>)completed).Result;

    private Task<TPart> Attempt(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, int attempt) =>
        _fetch is not null
            ? _fetch(setup.Scope.Key, cancellationToken)
            : _fetchWithContext!(new FetchContext<TKey>(setup.Scope, Name, attempt, cancellationToken, causes));

    /// <summary>
    /// Retries inside this fetcher's actor, so siblings never notice a transient failure. No attempt starts and no backoff
    /// waits past the request's deadline: when the next backoff would end after it, the last failure is final at once.
    /// Written by hand rather than with Polly.Core because the deadline decision needs the next delay before committing
    /// to it, which Polly's ShouldHandle does not see; the loop is the whole of it.
    /// </summary>
    private async Task<TPart> Retrying(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, RetryPolicy retry,
        AttemptCounter attempts)
    {
        var log = setup.Runtime.Log;
        while (true)
        {
            var attempt = attempts.Next();
            Exception failure;
            try
            {
                var task = Attempt(setup, cancellationToken, causes, attempt)
                    ?? throw new InvalidOperationException($"Fetcher '{Name}' returned a null Task.");
                return await task.ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = e;
            }

            if (attempt >= retry.MaxAttempts || !retry.IsTransient(failure))
                throw new AttemptsExhaustedException(attempt, failure);
            var backoff = retry.BackoffMilliseconds(attempt);
            var remaining = setup.Scope.Remaining.TotalMilliseconds;
            if (backoff >= remaining)
            {
                log.Warning(
                    "Fetch {Fetcher} of {RequestId} attempt {Attempt} failed ({Error}); no retry: a {DelayMs} ms backoff would pass the deadline ({RemainingMs} ms left)",
                    Name, setup.Scope.RequestId, attempt, Errors.MessageOf(failure), backoff, Math.Max(0, remaining));
                throw new AttemptsExhaustedException(attempt, failure);
            }
            log.Warning("Fetch {Fetcher} of {RequestId} attempt {Attempt} of {MaxAttempts} failed ({Error}); retrying in {DelayMs} ms",
                Name, setup.Scope.RequestId, attempt, retry.MaxAttempts, Errors.MessageOf(failure), backoff);
            await Task.Delay(TimeSpan.FromMilliseconds(backoff), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Fail as soon as the target's node is reported unreachable (<see cref="NodeReachability"/>).</summary>
    public bool FailOnUnreachable { get; init; }

    public override void Validate()
    {
        if (Target is null && Path is null) throw new ArgumentException($"Fetcher '{Name}' has no target actor.", "target");
        if (Message is null) throw new ArgumentException($"Fetcher '{Name}' has a null message function.", "message");
        if (Map is null) throw new ArgumentException($"Fetcher '{Name}' has a null reply mapping.", "reply");
    }

    public override Props CreateFetcher(FetcherSetup<TKey> setup, AttemptCounter? attempts) => AskFetcher<TKey, TReply, TPart>.Props(this, setup);
}

/// <summary>Carries the attempt count of a retried fetch's final failure out of its task; the fetch's own exception is its inner exception.</summary>
internal sealed class AttemptsExhaustedException(int attempts, Exception last) : Exception("The retry budget is spent.", last)
{
    public int Attempts { get; } = attempts;
}
