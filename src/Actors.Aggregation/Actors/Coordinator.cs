using Akka.Actor;
using Akka.Actor.Internal;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// The life of one request, top to bottom. The aggregator creates one coordinator per accepted request; it
/// <list type="number">
/// <item>arms one timer for the request's absolute deadline (arrival + timeout; progress never extends it): it ends the
/// request's scope at the deadline and tells the coordinator, which replies,</item>
/// <item>hears from the aggregator, which watches each requester once, when its requester died (a disconnected client:
/// the request is cancelled, nobody is answered),</item>
/// <item>starts one fetcher child per declared fetcher: all at once, or at most <c>MaxConcurrency</c> at a time in declared order,</item>
/// <item>replies exactly once, as soon as its <see cref="CompletionPolicy"/> knows the outcome: the parts, the first failure,
/// the deadline or a cancellation,</item>
/// <item>ends the request's scope the moment it decides (reply, failure, deadline, cancellation, requester death): every
/// fetch's token is that scope's or linked to it, so all running fetches are cancelled at once, errgroup's ctx;</item>
/// <item>stops itself right after replying. Stopping stops every fetcher, whose PostStop also fires its fetch's token.</item>
/// </list>
/// A failing fetcher reaches the coordinator through its all-for-one strategy: the decider records the failure and, under
/// <see cref="CompletionPolicy.FailFast"/>, replies at once (not after the siblings wind down) and stops them all, never restarting.
/// Before anything stops a running fetcher, the request's <see cref="CancellationCause"/> is set, so a fetch can ask why.
/// </summary>
internal sealed class Coordinator<TKey, TResult> : UntypedActor
{
    private const byte Waiting = 0, Running = 1, Succeeded = 2, Failed = 3;

    private static readonly CancellationCause DeadlineCause = new(CancellationCauseKind.DeadlineExceeded, "the request's deadline passed");
    private static readonly CancellationCause CallerCause = new(CancellationCauseKind.CallerCancelled, AggregationCancelled.ByRequester);
    private static readonly CancellationCause RequesterCause = new(CancellationCauseKind.RequesterTerminated, "the requester terminated");
    private static readonly CancellationCause CompletedCause = new(CancellationCauseKind.RequestCompleted, "the request completed without this part");

    private readonly AggregatorRuntime<TKey, TResult> _runtime;
    private readonly AggregationDefinition<TKey, TResult> _definition;
    private readonly RequestInfo<TKey> _request;
    private readonly IActorRef _self;
    private readonly IActorContext _context;
    private readonly object?[] _values;
    private readonly byte[] _state;
    private readonly int? _limit;

    // Only when fetchers stop one by one (a concurrency limit, or a policy that outlives a failure).
    private readonly IActorRef?[]? _children;
    private Exception?[]? _errors;
    private int[]? _attempts;
    private List<FetcherFailed>? _failures;

    private int _nextToStart;
    private int _running;   // fetches started and not yet finished
    private int _alive;     // fetcher actors started and not yet known to be gone (what a concurrency limit counts)
    private int _succeeded;
    private int _failed;
    private bool _replied;
    private bool _finishing;
    private int _stoppingChildren;
    private Timer? _deadline;

    public Coordinator(AggregatorRuntime<TKey, TResult> runtime, RequestInfo<TKey> request)
    {
        _runtime = runtime;
        _definition = runtime.Definition;
        _request = request;
        _self = Self;
        _context = Context;
        var count = _definition.Steps.Length;
        _values = new object?[count];
        _state = new byte[count];
        _limit = _definition.MaxConcurrency;
        if (_limit is not null || _definition.Policy is not CompletionPolicy.FailFastPolicy) _children = new IActorRef?[count];
    }

    public static Props Props(AggregatorRuntime<TKey, TResult> runtime, RequestInfo<TKey> request) =>
        Akka.Actor.Props.CreateBy(new Producer(runtime, request));

    protected override void PreStart()
    {
        var remaining = _request.Remaining;
        if (remaining <= TimeSpan.Zero)
        {
            // The request waited in the aggregator's mailbox past its deadline: no fetcher is worth starting.
            OnDeadline();
            return;
        }
        // A .NET timer rather than IWithTimers: Akka's scheduler ticks every 10 ms (measured deadline overshoot p99 39-42 ms vs
        // 20-24 ms) and its first use on a new system stalls every scheduling thread; disposed on decision and in PostStop.
        _deadline = new Timer(static state => ((Coordinator<TKey, TResult>)state!).OnDeadlineTimer(), this, remaining, Timeout.InfiniteTimeSpan);

        StartFetchers();
    }

    /// <summary>Starts fetchers in declared order while the concurrency limit allows (all of them without a limit).</summary>
    private void StartFetchers()
    {
        var steps = _definition.Steps;
        while (!_replied && !_request.IsEnded && _nextToStart < steps.Length && (_limit is null || _alive < _limit))
        {
            var index = _nextToStart++;
            _state[index] = Running;
            _running++;
            _alive++;
            // Named after the fetcher, so paths, logs and leak reports say which fetcher an actor runs.
            var child = _context.ActorOf(steps[index].CreateFetcher(new FetcherInfo<TKey>(steps[index], _request, _self, _runtime)), steps[index].ActorName);
            if (_children is not null) _children[index] = child;
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PartCompleted part:
                if (_replied || _state[part.Index] != Running) return;
                _state[part.Index] = Succeeded;
                _values[part.Index] = part.Value;
                _succeeded++;
                _running--;
                if (_limit is not null) StopChild(part.Index); // its slot frees when it is gone
                Evaluate();
                break;
            case DeadlineTick:
                if (!_replied) OnDeadline();
                break;
            case CancelAggregate:
                if (_replied) return;
                _request.SetCause(CallerCause);
                Fail(new AggregationCancelled(AggregationCancelled.ByRequester));
                break;
            case RequesterTerminated:
                if (_replied) return;
                // Nobody is left to answer: cancel everything, like a server noticing its client went away.
                _replied = true;
                _request.SetCause(RequesterCause);
                EndScope();
                _runtime.Log.Info("Aggregation {RequestId} {Outcome} after {ElapsedMs} ms: its requester terminated; fetchers stopped",
                    _request.RequestId, "abandoned-by-requester", _request.Elapsed.TotalMilliseconds);
                StopSelf();
                break;
            case Terminated:
                // A fetcher stopped one by one has gone: its slot is free, and the coordinator, when finishing,
                // stops itself only once none is left stopping.
                _alive--;
                if (--_stoppingChildren == 0 && _finishing) _context.Stop(_self);
                else StartFetchers();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>After each part: is the request complete under its policy?</summary>
    private void Evaluate()
    {
        if (_replied) return;
        var count = _state.Length;
        switch (_definition.Policy)
        {
            case CompletionPolicy.FailFastPolicy:
                if (_succeeded == count) Complete(present: null);
                break;
            case CompletionPolicy.CollectAllPolicy:
                if (_succeeded + _failed == count) CompleteCollected();
                break;
            case CompletionPolicy.QuorumPolicy quorum:
                if (_succeeded >= quorum.Required)
                {
                    _request.SetCause(CompletedCause);
                    Complete(present: PresentParts());
                }
                else if (count - _failed < quorum.Required)
                {
                    var last = _failures![^1].Fetcher;
                    _request.SetCause(new CancellationCause(CancellationCauseKind.SiblingFailed, $"fetcher '{last}' failed") { Fetcher = last });
                    Fail(new QuorumNotReached(quorum.Required, _failures!.ToArray()));
                }
                break;
        }
    }

    /// <summary>On the timer's thread: touches only fields fixed at construction. Cancels the fetches at the deadline itself.</summary>
    private void OnDeadlineTimer()
    {
        // A .NET timer may fire a little early; the deadline is never reported before it has passed.
        var remaining = _request.Remaining;
        if (remaining > TimeSpan.Zero && Volatile.Read(ref _deadline) is { } timer)
        {
            try
            {
                timer.Change(remaining + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The request was decided meanwhile.
            }
            return;
        }
        _request.End(DeadlineCause, _runtime.Log);
        _self.Tell(DeadlineTick.Instance, ActorRefs.NoSender);
    }

    private void OnDeadline()
    {
        _request.SetCause(DeadlineCause);
        if (_definition.Policy is CompletionPolicy.CollectAllPolicy) CompleteCollected();
        else Fail(new DeadlineExceeded(_request.Timeout, PendingFetchers()));
    }

    protected override SupervisorStrategy SupervisorStrategy() => new FetcherStrategy(this);

    /// <summary>The decider: records a fetcher's failure; under FailFast the first one is the cause, replied at once.</summary>
    private Directive OnFetcherFailed(Exception cause)
    {
        if (cause is ActorInitializationException { InnerException: { } initCause }) cause = initCause;
        if (cause is not FetchFailedException fetch)
        {
            // Not a fetch's failure but a bug in a fetcher actor: fail the request rather than guess.
            if (!_replied) Fail(new FetcherFailed("(unknown)", cause));
            return Directive.Stop;
        }
        if (_replied || _state[fetch.Index] != Running) return Directive.Stop;

        _state[fetch.Index] = Failed;
        _failed++;
        _running--;
        var failure = new FetcherFailed(fetch.Fetcher, fetch.InnerException!) { Attempts = fetch.Attempts };
        if (_definition.Policy is CompletionPolicy.FailFastPolicy)
        {
            _request.SetCause(new CancellationCause(CancellationCauseKind.SiblingFailed, $"fetcher '{fetch.Fetcher}' failed") { Fetcher = fetch.Fetcher });
            Fail(failure);
            return Directive.Stop;
        }

        (_errors ??= new Exception?[_state.Length])[fetch.Index] = failure.Exception;
        (_attempts ??= new int[_state.Length])[fetch.Index] = failure.Attempts;
        (_failures ??= new List<FetcherFailed>()).Add(failure);
        Evaluate();
        return Directive.Stop;
    }

    /// <summary>
    /// All-for-one, stop, never restart. Under FailFast, "stop all" is done by stopping the coordinator itself, which stops
    /// every fetcher exactly once: stopping the children here and then the coordinator would send each child a second
    /// Terminate, which reaches a dead child as a dead letter. Under the other policies a failure ends only that fetcher.
    /// </summary>
    private sealed class FetcherStrategy(Coordinator<TKey, TResult> coordinator)
        : AllForOneStrategy(0, 0, coordinator.OnFetcherFailed, loggingEnabled: false)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children) => coordinator.AfterFetcherFailed(child);
    }

    private void AfterFetcherFailed(IActorRef child)
    {
        if (_replied || _children is null)
        {
            StopSelf();
            return;
        }
        var index = Array.IndexOf(_children, child);
        if (index >= 0) StopChild(index);
    }

    private void Complete(bool[]? present)
    {
        TResult result;
        try
        {
            result = _definition.Combine(new AggregationParts(_definition.FetcherNames, _values, present));
        }
        catch (Exception e)
        {
            Fail(new CombineFailed(e));
            return;
        }
        var elapsed = _request.Elapsed;
        Reply(new AggregateSucceeded<TResult>(_request.RequestId, result, elapsed));
        if (_runtime.Log.IsInfoEnabled)
            _runtime.Log.Info("Aggregation {RequestId} {Outcome} in {ElapsedMs} ms", _request.RequestId, "succeeded", elapsed.TotalMilliseconds);
        StopSelf();
    }

    private void CompleteCollected()
    {
        var names = _definition.FetcherNames;
        var outcomes = new PartOutcome[_state.Length];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = _state[i] switch
            {
                Succeeded => new PartOutcome(names[i], PartStatus.Succeeded, _values[i], null),
                Failed => new PartOutcome(names[i], PartStatus.Failed, null, _errors![i]) { Attempts = _attempts![i] },
                Running => new PartOutcome(names[i], PartStatus.TimedOut, null, null),
                _ => new PartOutcome(names[i], PartStatus.NotStarted, null, null),
            };
        }
        TResult result;
        try
        {
            result = _definition.Combine(new AggregationParts(names, _values, PresentParts()));
        }
        catch (Exception e)
        {
            Fail(new CombineFailed(e));
            return;
        }
        var elapsed = _request.Elapsed;
        Reply(new AggregateCompleted<TResult>(_request.RequestId, result, outcomes, elapsed));
        var incomplete = _state.Length - _succeeded;
        if (incomplete > 0 && _runtime.Log.IsWarningEnabled)
            _runtime.Log.Warning("Aggregation {RequestId} {Outcome} in {ElapsedMs} ms with {Incomplete} of {Count} parts missing: {Parts}",
                _request.RequestId, "completed-partially", elapsed.TotalMilliseconds, incomplete, _state.Length,
                string.Join(", ", outcomes.Where(o => o.Status != PartStatus.Succeeded).Select(o => $"{o.Fetcher}={o.Status}")));
        else if (_runtime.Log.IsInfoEnabled)
            _runtime.Log.Info("Aggregation {RequestId} {Outcome} in {ElapsedMs} ms", _request.RequestId, "completed", elapsed.TotalMilliseconds);
        StopSelf();
    }

    private void Fail(AggregationFailure reason)
    {
        ReplyFailure(reason);
        StopSelf();
    }

    private void ReplyFailure(AggregationFailure reason)
    {
        var elapsed = _request.Elapsed;
        Reply(new AggregateFailed(_request.RequestId, reason) { Elapsed = elapsed });
        if (_runtime.Log.IsWarningEnabled)
            _runtime.Log.Warning("Aggregation {RequestId} {Outcome} in {ElapsedMs} ms: {Reason}",
                _request.RequestId, OutcomeOf(reason), elapsed.TotalMilliseconds, reason.Describe());
    }

    private void Reply(object reply)
    {
        _replied = true;
        // Sent as the aggregator, which outlives this coordinator, so the requester has someone to answer.
        _request.Requester.Tell(reply, _context.Parent);
        EndScope();
    }

    /// <summary>
    /// The request is decided: every fetch still running has its token fired now, not when its actor's PostStop runs
    /// after the stop has travelled down to it. The cause is set first (by the caller; here only as a fallback).
    /// </summary>
    private void EndScope()
    {
        _deadline?.Dispose();
        if (_request.IsEnded) return;
        _request.End(_running > 0 && _request.Cause is null ? _runtime.StopCause() : null, _runtime.Log);
    }

    /// <summary>
    /// Stops the request. Fetchers still running are stopped with the coordinator, each exactly once. When some were
    /// stopped one by one, the coordinator first stops the rest the same way and waits for all of them to be gone.
    /// </summary>
    private void StopSelf()
    {
        if (_finishing) return;
        _finishing = true;
        if (_runtime.Faults is { } faults && faults.LeaksAFetcher(_context, _request.RequestId, _definition.Steps)) return; // test-only breakage
        if (_children is not null && _stoppingChildren > 0)
            for (var i = 0; i < _children.Length; i++)
                StopChild(i);
        if (_stoppingChildren == 0) _context.Stop(_self);
    }

    private void StopChild(int index)
    {
        if (_children![index] is not { } child) return;
        _children[index] = null;
        _context.Watch(child);
        _context.Stop(child);
        _stoppingChildren++;
    }

    protected override void PostStop()
    {
        _deadline?.Dispose();
        if (!_replied)
        {
            // Stopped from outside before finishing: the aggregator restarted or stopped, or the system is shutting down.
            var cause = _runtime.Crashes.TryRemove(_self, out var crash)
                ? new CancellationCause(CancellationCauseKind.AggregatorStopped, $"the request's coordinator failed ({crash.GetType().Name}: {crash.Message})")
                : _runtime.StopCause();
            _request.SetCause(cause);
            ReplyFailure(new AggregationCancelled(cause.Description));
        }
        _context.Parent.Tell(new RequestEnded(_request.RequestId));
    }

    private bool[] PresentParts()
    {
        var present = new bool[_state.Length];
        for (var i = 0; i < present.Length; i++) present[i] = _state[i] == Succeeded;
        return present;
    }

    private string[] PendingFetchers()
    {
        var pending = new List<string>(_state.Length);
        var names = _definition.FetcherNames;
        for (var i = 0; i < _state.Length; i++)
            if (_state[i] is Running or Waiting) pending.Add(names[i]);
        return pending.ToArray();
    }

    private static string OutcomeOf(AggregationFailure reason) => reason switch
    {
        FetcherFailed => "fetcher-failed",
        DeadlineExceeded => "deadline-exceeded",
        AggregationCancelled => "cancelled",
        CombineFailed => "combine-failed",
        QuorumNotReached => "quorum-not-reached",
        _ => "failed",
    };

    private sealed class DeadlineTick : IDeadLetterSuppression
    {
        public static readonly DeadlineTick Instance = new();
    }

    /// <summary>Creates the actor directly: no reflection, no compiled expression, on the per-request path.</summary>
    private sealed class Producer(AggregatorRuntime<TKey, TResult> runtime, RequestInfo<TKey> request) : IIndirectActorProducer
    {
        public Type ActorType => typeof(Coordinator<TKey, TResult>);

        public ActorBase Produce() => new Coordinator<TKey, TResult>(runtime, request);

        public void Release(ActorBase actor) { }
    }
}

/// <summary>A fetcher's part, sent straight to the coordinator (from the fetch's continuation, or by an ask fetcher).</summary>
internal sealed record PartCompleted(int Index, object? Value) : IDeadLetterSuppression;

/// <summary>Told to a coordinator by the aggregator when the request's requester terminated.</summary>
internal sealed class RequesterTerminated : IDeadLetterSuppression
{
    public static readonly RequesterTerminated Instance = new();

    private RequesterTerminated() { }
}

/// <summary>Told to the aggregator by a coordinator as it stops, so the request leaves the in-flight table.</summary>
internal sealed record RequestEnded(string RequestId) : IDeadLetterSuppression;

/// <summary>Carries a fetch's failure through supervision, naming the fetcher.</summary>
internal sealed class FetchFailedException(string fetcher, int index, Exception cause, int attempts = 1)
    : Exception($"Fetcher '{fetcher}' failed: {cause.Message}", cause)
{
    public string Fetcher { get; } = fetcher;
    public int Index { get; } = index;
    public int Attempts { get; } = attempts;

    public static FetchFailedException Of<TKey>(FetchStep<TKey> step, Exception cause) =>
        cause is AttemptsExhaustedException exhausted
            ? new FetchFailedException(step.Name, step.Index, exhausted.InnerException!, exhausted.Attempts)
            : new FetchFailedException(step.Name, step.Index, cause);
}

/// <summary>What a fetcher actor needs: its step, the request it serves, where to report, and the aggregator's shared parts.</summary>
internal sealed record FetcherInfo<TKey>(FetchStep<TKey> Step, RequestInfo<TKey> Request, IActorRef Coordinator, AggregatorRuntime Runtime);
