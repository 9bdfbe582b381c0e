using System.Diagnostics;
using Akka.Actor;
using Akka.Actor.Internal;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// The life of one request, top to bottom. The aggregator creates one coordinator per accepted request; it
/// <list type="number">
/// <item>arms one timer for the request's absolute deadline (arrival + timeout; progress never extends it),</item>
/// <item>watches the requester (a dead requester is a disconnected client: the request is cancelled),</item>
/// <item>starts one <see cref="Fetcher{TKey}"/> child per declared fetcher, all at once,</item>
/// <item>replies exactly once: success when the last part arrives, otherwise the first failure, the deadline or a cancellation,</item>
/// <item>stops itself right after replying. Stopping stops every fetcher, whose PostStop cancels its fetch's token.</item>
/// </list>
/// A failing fetcher reaches the coordinator through its <see cref="AllForOneStrategy"/>: the decider records the first cause,
/// replies at once (not after the siblings wind down) and answers Stop, never Restart, for all children.
/// </summary>
internal sealed class Coordinator<TKey, TResult> : UntypedActor, IWithTimers
{
    private readonly AggregatorRuntime<TKey, TResult> _runtime;
    private readonly RequestInfo<TKey> _request;
    private readonly IActorRef _self;
    private readonly IActorContext _context;
    private readonly object?[] _parts;
    private readonly bool[] _arrived;
    private int _pending;
    private bool _replied;
    private bool _stopping;

    public Coordinator(AggregatorRuntime<TKey, TResult> runtime, RequestInfo<TKey> request)
    {
        _runtime = runtime;
        _request = request;
        _self = Self;
        _context = Context;
        var count = runtime.Definition.Steps.Length;
        _parts = new object?[count];
        _arrived = new bool[count];
        _pending = count;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(AggregatorRuntime<TKey, TResult> runtime, RequestInfo<TKey> request) =>
        Akka.Actor.Props.CreateBy(new Producer(runtime, request));

    protected override void PreStart()
    {
        var remaining = _request.Timeout - Stopwatch.GetElapsedTime(_request.ArrivalTimestamp);
        if (remaining <= TimeSpan.Zero)
        {
            // The request waited in the aggregator's mailbox past its deadline: no fetcher is worth starting.
            Fail(new DeadlineExceeded(_request.Timeout, _runtime.Definition.FetcherNames));
            return;
        }
        Timers.StartSingleTimer(DeadlineTick.Instance, DeadlineTick.Instance, remaining);

        // Ask's temporary ref and DeadLetters are MinimalActorRefs: they cannot be watched
        // (watching DeadLetters would report it dead at once), and nobody there can die as a client does.
        if (_request.Requester is not MinimalActorRef) _context.Watch(_request.Requester);

        foreach (var step in _runtime.Definition.Steps)
            _context.ActorOf(Fetcher<TKey>.Props(new FetcherInfo<TKey>(step, _request.Key, _request.RequestId, _self, _runtime.Counters,
                _runtime.Log, _runtime.Scheduler, _runtime.Settings.AbandonedFetchGrace)), step.ActorName);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PartCompleted part:
                if (_replied || _arrived[part.Index]) return;
                _arrived[part.Index] = true;
                _parts[part.Index] = part.Value;
                if (--_pending == 0) Complete();
                break;
            case DeadlineTick:
                if (!_replied) Fail(new DeadlineExceeded(_request.Timeout, PendingFetchers()));
                break;
            case CancelAggregate:
                if (!_replied) Fail(new AggregationCancelled(AggregationCancelled.ByRequester));
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_request.Requester):
                if (_replied) return;
                // Nobody is left to answer: cancel everything, like a server noticing its client went away.
                _replied = true;
                _runtime.Log.Info("Aggregation {RequestId} {Outcome} after {ElapsedMs} ms: its requester terminated; fetchers stopped",
                    _request.RequestId, "abandoned-by-requester", ElapsedMs());
                StopSelf();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override SupervisorStrategy SupervisorStrategy() => new StopAllStrategy(this);

    /// <summary>The decider: the first failure is the cause, replied at once; whatever follows (siblings' cancellations) is not.</summary>
    private Directive OnFetcherFailed(Exception cause)
    {
        if (!_replied)
        {
            if (cause is ActorInitializationException { InnerException: { } initCause }) cause = initCause;
            ReplyFailure(cause is FetchFailedException fetch
                ? new FetcherFailed(fetch.Fetcher, fetch.InnerException!)
                : new FetcherFailed("(unknown)", cause));
        }
        return Directive.Stop;
    }

    /// <summary>
    /// All-for-one, stop, never restart. "Stop all" is done by stopping the coordinator itself, which stops every fetcher
    /// exactly once: stopping the children here and then the coordinator would send each child a second Terminate,
    /// which reaches a dead child as a dead letter.
    /// </summary>
    private sealed class StopAllStrategy(Coordinator<TKey, TResult> coordinator)
        : AllForOneStrategy(0, 0, coordinator.OnFetcherFailed, loggingEnabled: false)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children) => coordinator.StopSelf();
    }

    private void StopSelf()
    {
        if (_stopping) return;
        _stopping = true;
        if (_runtime.Faults is { } faults && faults.LeaksAFetcher(_context, _request.RequestId, _runtime.Definition.Steps)) return; // test-only breakage
        _context.Stop(_self);
    }

    private void Complete()
    {
        TResult result;
        try
        {
            result = _runtime.Definition.Combine(new AggregationParts(_runtime.Definition.FetcherNames, _parts));
        }
        catch (Exception e)
        {
            Fail(new CombineFailed(e));
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(_request.ArrivalTimestamp);
        Reply(new AggregateSucceeded<TResult>(_request.RequestId, result, elapsed));
        if (_runtime.Log.IsInfoEnabled)
            _runtime.Log.Info("Aggregation {RequestId} {Outcome} in {ElapsedMs} ms", _request.RequestId, "succeeded", elapsed.TotalMilliseconds);
        StopSelf();
    }

    private void Fail(AggregationFailure reason)
    {
        ReplyFailure(reason);
        StopSelf();
    }

    private void ReplyFailure(AggregationFailure reason)
    {
        var elapsed = Stopwatch.GetElapsedTime(_request.ArrivalTimestamp);
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
    }

    protected override void PostStop()
    {
        if (!_replied)
        {
            // Stopped from outside before finishing: the aggregator restarted or stopped, or the system is shutting down.
            var reason = _runtime.StopReason
                ?? (CoordinatedShutdown.Get(Context.System).ShutdownReason is { } shutdown
                    ? $"the actor system is shutting down ({shutdown.GetType().Name})"
                    : "the aggregator stopped");
            ReplyFailure(new AggregationCancelled(reason));
        }
        _context.Parent.Tell(new RequestEnded(_request.RequestId));
    }

    private string[] PendingFetchers()
    {
        var pending = new string[_pending];
        var names = _runtime.Definition.FetcherNames;
        for (int i = 0, j = 0; i < _arrived.Length; i++)
            if (!_arrived[i]) pending[j++] = names[i];
        return pending;
    }

    private double ElapsedMs() => Stopwatch.GetElapsedTime(_request.ArrivalTimestamp).TotalMilliseconds;

    private static string OutcomeOf(AggregationFailure reason) => reason switch
    {
        FetcherFailed => "fetcher-failed",
        DeadlineExceeded => "deadline-exceeded",
        AggregationCancelled => "cancelled",
        CombineFailed => "combine-failed",
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

/// <summary>A fetcher's part, sent by its task's continuation straight to the coordinator.</summary>
internal sealed record PartCompleted(int Index, object? Value) : IDeadLetterSuppression;

/// <summary>Told to the aggregator by a coordinator as it stops, so the request leaves the in-flight table.</summary>
internal sealed record RequestEnded(string RequestId) : IDeadLetterSuppression;

/// <summary>Carries a fetch's failure through supervision, naming the fetcher.</summary>
internal sealed class FetchFailedException(string fetcher, Exception cause)
    : Exception($"Fetcher '{fetcher}' failed: {cause.Message}", cause)
{
    public string Fetcher { get; } = fetcher;
}

/// <summary>What a fetcher actor needs: its step, the request it serves, and where to report.</summary>
internal sealed record FetcherInfo<TKey>(
    FetchStep<TKey> Step, TKey Key, string RequestId, IActorRef Coordinator, AggregationCounters Counters,
    ILoggingAdapter Log, IScheduler Scheduler, TimeSpan AbandonedGrace);

/// <summary>
/// Runs one fetch. Its token is cancelled in PostStop, whatever stopped the actor. A successful part goes straight to the
/// coordinator; a failure is thrown inside this actor so the coordinator's all-for-one strategy sees it.
/// </summary>
internal sealed class Fetcher<TKey> : UntypedActor
{
    private readonly FetcherInfo<TKey> _info;
    private readonly CancellationTokenSource _cancellation = new();
    private FetchRun? _run;
    private bool _cleanedUp;

    public Fetcher(FetcherInfo<TKey> info) => _info = info;

    public static Props Props(FetcherInfo<TKey> info) => Akka.Actor.Props.CreateBy(new Producer(info));

    protected override void PreStart()
    {
        _info.Counters.FetcherStarted();
        Task? task;
        try
        {
            task = _info.Step.Start(_info.Key, _cancellation.Token);
        }
        catch (Exception e)
        {
            // Thrown before the fetch's first await: a failure like any other. Akka does not run PostStop for an actor
            // whose PreStart threw, so clean up here.
            CleanUp();
            throw new FetchFailedException(_info.Step.Name, e);
        }
        if (task is null)
        {
            CleanUp();
            throw new FetchFailedException(_info.Step.Name, new InvalidOperationException($"Fetcher '{_info.Step.Name}' returned a null Task."));
        }

        _run = new FetchRun(_info, Self);
        if (task.IsCompleted) _run.OnCompleted(task);
        else task.ContinueWith(static (t, run) => ((FetchRun)run!).OnCompleted(t), _run,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    protected override void OnReceive(object message)
    {
        if (message is FetchFaulted faulted) throw new FetchFailedException(_info.Step.Name, faulted.Cause);
        Unhandled(message);
    }

    protected override void PostStop() => CleanUp();

    private void CleanUp()
    {
        if (_cleanedUp) return;
        _cleanedUp = true;
        _info.Counters.FetcherStopped();
        // Mark the run stopped before cancelling: a cooperative fetch may complete inside Cancel(), and must not report.
        var lingering = _run?.Stop() ?? false;
        _cancellation.Cancel();
        // A fetch still running may yet register on the token; the source owns no timer, so leaving it to the GC is safe.
        if (!lingering) _cancellation.Dispose();
    }

    private sealed record FetchFaulted(Exception Cause) : IDeadLetterSuppression;

    /// <summary>
    /// The one object a fetch's continuation touches. Its state decides, once, whether the outcome is delivered
    /// (the actor is running) or discarded (the actor stopped first: the fetch lingers, and is abandoned past the grace).
    /// </summary>
    private sealed class FetchRun(FetcherInfo<TKey> info, IActorRef fetcher)
    {
        private const int Running = 0, Delivered = 1, Stopped = 2, FinishedAfterStop = 3;
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _state;
        private long _tokenFired;
        private int _abandoned;

        public void OnCompleted(Task task)
        {
            // Read the outcome first: this observes any exception, so a late fault is never an unobserved task exception.
            var error = task.IsFaulted ? Unwrap(task.Exception!) : task.IsCanceled ? new TaskCanceledException(task) : null;

            if (Interlocked.CompareExchange(ref _state, Delivered, Running) == Running)
            {
                if (info.Log.IsDebugEnabled)
                    info.Log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} in {ElapsedMs} ms", info.Step.Name, info.RequestId,
                        error is null ? "succeeded" : "failed", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
                if (error is null) info.Coordinator.Tell(new PartCompleted(info.Step.Index, info.Step.ResultOf(task)), fetcher);
                else fetcher.Tell(new FetchFaulted(error), fetcher);
                return;
            }

            if (Interlocked.CompareExchange(ref _state, FinishedAfterStop, Stopped) != Stopped) return;
            info.Counters.LingeringEnded(this);
            var late = Stopwatch.GetElapsedTime(Interlocked.Read(ref _tokenFired));
            if (Volatile.Read(ref _abandoned) == 1)
                info.Log.Warning("Abandoned fetch {Fetcher} of {RequestId} finished {LateMs} ms after its token fired; its {Outcome} was discarded",
                    info.Step.Name, info.RequestId, late.TotalMilliseconds, error is null ? "result" : "failure");
            else if (info.Log.IsDebugEnabled)
                info.Log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} {LateMs} ms after its token fired", info.Step.Name, info.RequestId,
                    error is OperationCanceledException ? "cancelled" : "finished", late.TotalMilliseconds);
        }

        /// <summary>Called from the actor's PostStop, before the token fires. True when the fetch is still running.</summary>
        public bool Stop()
        {
            Interlocked.Exchange(ref _tokenFired, Stopwatch.GetTimestamp());
            if (Interlocked.CompareExchange(ref _state, Stopped, Running) != Running) return false;
            info.Counters.LingeringStarted(this, info.RequestId, info.Step.Name);
            info.Scheduler.Advanced.ScheduleOnce(info.AbandonedGrace, CheckAbandoned);
            return true;
        }

        private void CheckAbandoned()
        {
            if (Volatile.Read(ref _state) != Stopped) return;
            Volatile.Write(ref _abandoned, 1);
            info.Counters.FetchAbandoned();
            info.Log.Warning("Fetch {Fetcher} of {RequestId} ignored its cancellation for {GraceMs} ms and is abandoned; it keeps running, its outcome will be discarded",
                info.Step.Name, info.RequestId, info.AbandonedGrace.TotalMilliseconds);
        }

        private static Exception Unwrap(AggregateException e) => e.InnerExceptions.Count == 1 ? e.InnerExceptions[0] : e;
    }

    private sealed class Producer(FetcherInfo<TKey> info) : IIndirectActorProducer
    {
        public Type ActorType => typeof(Fetcher<TKey>);

        public ActorBase Produce() => new Fetcher<TKey>(info);

        public void Release(ActorBase actor) { }
    }
}
