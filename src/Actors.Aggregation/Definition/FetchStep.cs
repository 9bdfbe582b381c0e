using System.Diagnostics;
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

    /// <summary>The part's fallback when it is optional; null when it is required.</summary>
    public Fallback? Fallback { get; init; }

    /// <summary>The part's own budget from its start, inside the request's deadline; null when the deadline is its budget.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>True when the step's failure falls back rather than counting under the policy.</summary>
    public bool IsOptional => Fallback is not null;

    /// <summary>Checks the options every kind of step shares: the part's own timeout, and a fallback value of the part's type.</summary>
    protected void ValidateOptions(Type partType)
    {
        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
            throw new ArgumentException($"Fetcher '{Name}': its own timeout must be positive, but was {timeout}.", "options");
        if (Fallback is { HasValue: true } fallback && !(fallback.Value is null ? !partType.IsValueType || Nullable.GetUnderlyingType(partType) is not null : partType.IsInstanceOfType(fallback.Value)))
            throw new ArgumentException(
                $"Fetcher '{Name}': its fallback is {(fallback.Value is null ? "null" : fallback.Value.GetType().Name)}, but its parts are {partType.Name}.", "options");
    }

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

    /// <summary>The percentile of a hedging policy's delay, when the aggregator keeps this step's latencies for it; else null.</summary>
    public virtual double? HedgePercentile => null;
}

internal sealed class DelegateFetchStep<TKey, TPart> : TaskFetchStep<TKey>
{
    private readonly Func<TKey, CancellationToken, Task<TPart>>? _fetch;
    private readonly Func<FetchContext<TKey>, Task<TPart>>? _fetchWithContext;
    private readonly RetryPolicy? _retry;
    private readonly HedgingPolicy? _hedging;

    public DelegateFetchStep(string name, int index, Func<TKey, CancellationToken, Task<TPart>>? fetch,
        Func<FetchContext<TKey>, Task<TPart>>? fetchWithContext, FetchOptions options) : base(name, index)
    {
        _fetch = fetch;
        _fetchWithContext = fetchWithContext;
        _retry = options.Retry;
        _hedging = options.Hedging;
        Fallback = options.Fallback;
        Timeout = options.Timeout;
    }

    public override void Validate()
    {
        if (_fetch is null && _fetchWithContext is null) throw new ArgumentException($"Fetcher '{Name}' has a null fetch delegate.", "fetch");
        _retry?.Validate(Name);
        _hedging?.Validate(Name);
        if (_retry is not null && _hedging is not null)
            throw new ArgumentException($"Fetcher '{Name}' may retry or hedge, not both: give it a RetryPolicy or a HedgingPolicy.", "options");
        ValidateOptions(typeof(TPart));
    }

    public override bool Retries => _retry is not null || _hedging is not null;

    public override double? HedgePercentile => _hedging?.Percentile;

    public override Task Start(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, AttemptCounter? attempts) =>
        _retry is not null ? Retrying(setup, cancellationToken, causes, _retry, attempts!)
        : _hedging is not null ? Hedged(setup, cancellationToken, causes, _hedging, attempts!)
        : Attempt(setup, cancellationToken, causes, 1);

    public override object? ResultOf(Task completed) => ((Task<TPart>)completed).Result;

    /// <summary>One attempt: the fetch delegate, run under the attempt's span (Activity.Current inside it) while someone traces.</summary>
    private Task<TPart> Attempt(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, int attempt)
    {
        var previous = Activity.Current;
        if (causes.StartAttemptSpan(attempt) is null) return Invoke(setup, cancellationToken, causes, attempt);
        try
        {
            return Invoke(setup, cancellationToken, causes, attempt);
        }
        finally
        {
            Activity.Current = previous; // the fetch's own flow keeps its span; this thread goes back to what it had
        }
    }

    private Task<TPart> Invoke(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, int attempt) =>
        _fetch is not null
            ? _fetch(setup.Scope.Key, cancellationToken)
            : _fetchWithContext!(new FetchContext<TKey>(setup.Scope, Name, attempt, cancellationToken, causes));

    private Task<TPart> Hedged(FetcherSetup<TKey> setup, CancellationToken cancellationToken, ICauseSource causes, HedgingPolicy hedging,
        AttemptCounter attempts) =>
        HedgedFetch<TKey, TPart>.Run(setup, Name, Index, IsOptional, hedging, attempts, cancellationToken, causes,
            (token, attemptCauses, attempt) => Attempt(setup, token, attemptCauses, attempt));

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
            var remaining = (causes.PartRemaining is { } own && own < setup.Scope.Remaining ? own : setup.Scope.Remaining).TotalMilliseconds;
            if (backoff >= remaining)
            {
                log.Warning(
                    "Fetch {Fetcher} of {RequestId} attempt {Attempt} failed ({Error}); no retry: a {DelayMs} ms backoff would pass the deadline ({RemainingMs} ms left)",
                    Name, setup.Scope.RequestId, attempt, Errors.MessageOf(failure), Math.Round(backoff, 1), Math.Round(Math.Max(0, remaining), 1));
                throw new AttemptsExhaustedException(attempt, failure);
            }
            causes.AttemptRetried(failure);
            log.Warning("Fetch {Fetcher} of {RequestId} attempt {Attempt} of {MaxAttempts} failed ({Error}); retrying in {DelayMs} ms",
                Name, setup.Scope.RequestId, attempt, retry.MaxAttempts, Errors.MessageOf(failure), Math.Round(backoff, 1));
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
