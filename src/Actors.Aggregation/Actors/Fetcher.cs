using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// Runs one fetch as a task. Its token is the request's (when the fetcher lives until the request ends) or its own, linked
/// to the request's; either way it fires when the request's scope ends and, at the latest, when this actor stops, whatever
/// stopped it. A successful part goes straight to the coordinator; a failure is thrown inside this actor so that the
/// coordinator's all-for-one strategy sees it, after it has ended the request's scope itself when a failure ends the request.
/// </summary>
internal sealed class Fetcher<TKey> : UntypedActor, ICauseSource
{
    private readonly FetcherSetup<TKey> _setup;
    private readonly TaskFetchStep<TKey> _step;
    private readonly AttemptCounter? _attempts;
    // Null when the fetch uses the request's token itself (this actor then stops only when the request ends).
    private readonly CancellationTokenSource? _own;
    private CancellationCause? _ownCause;
    private FetchRun? _run;
    private Timer? _budget; // the part's own timeout, when it ends before the request's deadline
    private IActorRef _self = ActorRefs.Nobody;
    private bool _cleanedUp;
    private Activity? _span;   // the current attempt's span, while someone traces; taken once by whoever ends it
    private long _ownFiredAt;  // Stopwatch timestamp at which its own token fired (its budget ran out, or its actor stopped)

    private Fetcher(TaskFetchStep<TKey> step, FetcherSetup<TKey> setup, AttemptCounter? attempts)
    {
        _setup = setup;
        _step = step;
        _attempts = attempts;
        // A part with a budget of its own needs a token of its own, to fire alone when that budget runs out.
        if (!setup.Runtime.SharesRequestToken || step.Timeout is not null) _own = CancellationTokenSource.CreateLinkedTokenSource(setup.Scope.Token);
    }

    public static Props Props(TaskFetchStep<TKey> step, FetcherSetup<TKey> setup, AttemptCounter? attempts) =>
        RequestMailbox.Props(new Producer(step, setup, attempts));

    /// <summary>
    /// Why this fetch's token fired: <see cref="CancellationCauseKind.FetchFinished"/> once its outcome was delivered (the
    /// token fired after the fetch was done, whatever happened to the request later); else its own cause when its own token
    /// fired first (stopped from outside), else the request's.
    /// </summary>
    public CancellationCause? Cause =>
        _run is { IsDelivered: true } ? CancellationCause.Finished : Volatile.Read(ref _ownCause) ?? _setup.Scope.Cause;

    /// <summary>Time left of the part's own budget, from this actor's start; null without one.</summary>
    public TimeSpan? PartRemaining => _step.Timeout is { } budget ? budget - Stopwatch.GetElapsedTime(_startedAt) : null;

    private long _startedAt;

    public Activity? StartAttemptSpan(int attempt)
    {
        var span = FetchTelemetry.Start(_setup.Scope.Span, _setup.Runtime, _step.Name, _setup.Scope.RequestId, attempt);
        if (span is not null) Interlocked.Exchange(ref _span, span);
        return span;
    }

    public void AttemptRetried(Exception failure) => FetchTelemetry.Failed(TakeSpan(), failure, decisive: false, outcome: "retried");

    /// <summary>The current attempt's span, for the one who ends it; null when nobody traces or it has ended.</summary>
    private Activity? TakeSpan() => Interlocked.Exchange(ref _span, null);

    /// <summary>When this fetch's token fired: its own (budget or stop) or the request's, whichever came first; 0 if it has not.</summary>
    private long TokenFiredAt()
    {
        var own = Interlocked.Read(ref _ownFiredAt);
        var request = _setup.Scope.EndedTimestamp;
        return own == 0 ? request : request == 0 ? own : Math.Min(own, request);
    }

    protected override void PreStart()
    {
        _setup.Runtime.Counters.FetcherStarted();
        _self = Self;
        _startedAt = Stopwatch.GetTimestamp();
        var scope = _setup.Scope;
        Task? task;
        Exception? thrown = null;
        try
        {
            task = _step.Start(_setup, _own?.Token ?? scope.Token, this, _attempts);
        }
        catch (Exception e)
        {
            task = null;
            thrown = e;
        }
        if (task is not null)
        {
            _run = new FetchRun(this, _setup, _step, _self);
            if (task.IsCompleted) _run.OnCompleted(task);
            else
            {
                // Armed before the continuation, so a fetch finishing at once still finds it to dispose; a budget that ends
                // at or after the request's deadline needs no timer of its own.
                if (_step.Timeout is { } budget && budget < scope.Remaining)
                    _budget = new Timer(static state => ((Fetcher<TKey>)state!).OnBudgetSpent(), this, budget, Timeout.InfiniteTimeSpan);
                task.ContinueWith(static (t, run) => ((FetchRun)run!).OnCompleted(t), _run,
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return;
        }

        // Thrown before the fetch's first await (or a null task): a failure like any other, unless the request was decided
        // already (the fetch may have started with a fired token), and then it is discarded like any late outcome.
        var error = thrown ?? new InvalidOperationException($"Fetcher '{_step.Name}' returned a null Task.");
        if (scope.IsEnded)
        {
            FetchTelemetry.Cancelled(TakeSpan(), scope.Cause, default, scope.EndedTimestamp);
            return;
        }
        var failure = _step.FailureOf(error);
        var span = TakeSpan();
        if (!_step.IsOptional && span is not null) scope.FailedSpan = span;
        FetchTelemetry.Failed(span, failure.Exception, decisive: !_step.IsOptional, outcome: _step.IsOptional ? "fell_back" : "failure");
        FetchTelemetry.RecordDuration(_setup.Runtime, _step.Name, Stopwatch.GetElapsedTime(_startedAt), _step.IsOptional ? "fell_back" : "failure", null, failure.Exception);
        if (!_step.IsOptional) scope.EndOnFailure(failure, _setup.Runtime.Log);
        // Akka runs no PostStop for an actor whose PreStart threw: clean up here.
        CleanUp();
        throw new FetchFailedException(_step.Index, failure);
    }

    /// <summary>
    /// On the timer's thread: the part's own budget ran out while its fetch runs. Its token fires alone, with
    /// <see cref="CancellationCauseKind.PartTimedOut"/>, and the part fails with a <see cref="PartTimeoutException"/> (or falls
    /// back, when optional) at once, whether or not the fetch honours its token.
    /// </summary>
    private void OnBudgetSpent()
    {
        var scope = _setup.Scope;
        if (scope.IsEnded || _run is null || !_run.TryTimeOut()) return;
        var budget = _step.Timeout!.Value;
        var failure = new FetcherFailed(_step.Name, PartTimeoutException.OwnBudget(_step.Name, budget)) { Attempts = _attempts?.Started ?? 1 };
        if (Volatile.Read(ref _span) is { } span)
        {
            // The span stays open until the fetch really ends (or is judged abandoned); its failure is known now.
            if (!_step.IsOptional) scope.FailedSpan = span;
            FetchTelemetry.MarkFailed(span, failure.Exception, decisive: !_step.IsOptional, outcome: "timed_out");
        }
        Volatile.Write(ref _ownCause, CancellationCause.PartTimedOut(_step.Name, budget));
        Interlocked.Exchange(ref _ownFiredAt, Stopwatch.GetTimestamp());
        try
        {
            _own!.Cancel();
        }
        catch (AggregateException e)
        {
            _setup.Runtime.Log.Warning(e, "A cancellation callback of fetch {Fetcher} of {RequestId} threw", _step.Name, scope.RequestId);
        }
        if (!_step.IsOptional) scope.EndOnFailure(failure, _setup.Runtime.Log);
        _self.Tell(new FetchFaulted(failure), _self);
    }

    protected override void OnReceive(object message)
    {
        if (message is FetchFaulted faulted) throw new FetchFailedException(_step.Index, faulted.Failure);
        Unhandled(message);
    }

    protected override void PostStop() => CleanUp();

    private void CleanUp()
    {
        if (_cleanedUp) return;
        _cleanedUp = true;
        var runtime = _setup.Runtime;
        var scope = _setup.Scope;
        runtime.Counters.FetcherStopped();
        _budget?.Dispose();
        // Moved out of Running before the token fires: a cooperative fetch may complete inside Cancel() and must not report.
        var stillRunning = _run?.ActorStopped() ?? false;
        if (_own is null)
        {
            // This actor stops only when its request ends; if nobody has ended it, the request is being stopped from outside
            // (its coordinator is stopping under it), and the siblings' tokens are this one.
            if (!scope.IsEnded) scope.TryEnd(runtime.StopCause(_setup.Coordinator), runtime.Log);
            return;
        }
        if (stillRunning && !scope.IsEnded) Volatile.Write(ref _ownCause, runtime.StopCause(_setup.Coordinator));
        if (stillRunning) Interlocked.CompareExchange(ref _ownFiredAt, Stopwatch.GetTimestamp(), 0);
        _own.Cancel();
        // A fetch still running may yet register on the token; the source owns no timer, so leaving it to the GC is safe.
        // Disposing it also unlinks it from the request's token.
        if (!stillRunning) _own.Dispose();
    }

    private sealed record FetchFaulted(FetcherFailed Failure) : IDeadLetterSuppression, INoSerializationVerificationNeeded;

    /// <summary>
    /// The one object a fetch's continuation touches: where the fetch stands, moved only by compare-and-swap.
    /// <list type="bullet">
    /// <item><c>Running</c>: the task runs and its actor is alive. Left by the continuation (to Delivered or Discarded), by
    /// the actor's stop (to Lingering), or by its own budget's timer (to TimedOut), whichever comes first.</item>
    /// <item><c>Delivered</c>: the outcome went to the coordinator (a part) or to this actor (a failure). Final.</item>
    /// <item><c>Discarded</c>: finished after its request's scope ended, before its actor stopped: nobody wants the outcome. Final.</item>
    /// <item><c>TimedOut</c>: its own budget ran out while the task ran; that was its outcome. Left by the continuation (to
    /// Discarded) or by the actor's stop (to Lingering).</item>
    /// <item><c>Lingering</c>: its actor stopped (its token had fired) while the task still ran. Left by the continuation (to
    /// FinishedLate) or by the grace check (to Abandoned).</item>
    /// <item><c>Abandoned</c>: still running <c>abandoned-fetch-grace</c> after its actor stopped: it ignores its token. Left
    /// only by the continuation (to FinishedAbandoned), if the task ever ends.</item>
    /// <item><c>FinishedLate</c>, <c>FinishedAbandoned</c>: finished after its actor stopped; the outcome is observed and dropped. Final.</item>
    /// </list>
    /// </summary>
    private sealed class FetchRun(Fetcher<TKey> owner, FetcherSetup<TKey> setup, TaskFetchStep<TKey> step, IActorRef fetcher) : ILingeringFetch
    {
        private Activity? _abandonedSpan; // ended when judged abandoned; its late completion, if any, is a span of its own

        private const int Running = 0, Delivered = 1, Discarded = 2, Lingering = 3, Abandoned = 4, FinishedLate = 5, FinishedAbandoned = 6,
            TimedOut = 7;
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _state;
        private long _stopped;

        public string RequestId => setup.Scope.RequestId;
        public string Fetcher => step.Name;
        public long StoppedTimestamp => Interlocked.Read(ref _stopped);
        public bool IsAbandoned => Volatile.Read(ref _state) == Abandoned;
        public bool IsDelivered => Volatile.Read(ref _state) == Delivered;

        private bool Move(int from, int to) => Interlocked.CompareExchange(ref _state, to, from) == from;

        public void OnCompleted(Task task)
        {
            // Read the outcome first: this observes any exception, so a late fault is never an unobserved task exception.
            var error = ErrorOf(task);
            var log = setup.Runtime.Log;
            var scope = setup.Scope;

            // The request was decided before this fetch finished (often inside the scope's Cancel()): nobody wants the
            // outcome, and the fetch has finished, so it is neither reported nor lingering.
            if (scope.IsEnded && Move(Running, Discarded))
            {
                if (log.IsDebugEnabled)
                    log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} after its request ended; discarded", step.Name, scope.RequestId,
                        error is OperationCanceledException ? "cancelled" : "finished");
                Ended(error, "cancelled");
                return;
            }

            if (Move(Running, Delivered))
            {
                if (log.IsDebugEnabled)
                    TracedLog.Write(log, Volatile.Read(ref owner._span), LogLevel.DebugLevel, "Fetch {Fetcher} of {RequestId} {Outcome} in {ElapsedMs} ms", step.Name,
                        scope.RequestId, error is null ? "succeeded" : "failed", LogValues.Milliseconds(Stopwatch.GetElapsedTime(_started)));
                if (error is null)
                {
                    FetchTelemetry.Succeeded(owner.TakeSpan());
                    FetchTelemetry.RecordDuration(setup.Runtime, step.Name, Stopwatch.GetElapsedTime(_started), "success", null, null);
                    setup.Coordinator.Tell(new PartCompleted(step.Index, step.ResultOf(task)), fetcher);
                    return;
                }
                var failure = step.FailureOf(error);
                var outcome = step.IsOptional ? "fell_back" : "failure";
                var span = owner.TakeSpan();
                // Before the scope ends: the siblings whose tokens that fires link their spans to this one.
                if (!step.IsOptional && span is not null) scope.FailedSpan = span;
                FetchTelemetry.Failed(span, failure.Exception, decisive: !step.IsOptional, outcome);
                FetchTelemetry.RecordDuration(setup.Runtime, step.Name, Stopwatch.GetElapsedTime(_started), outcome, null, failure.Exception);
                if (!step.IsOptional) scope.EndOnFailure(failure, log); // an optional part falls back: its siblings go on
                fetcher.Tell(new FetchFaulted(failure), fetcher);
                return;
            }

            if (Move(TimedOut, Discarded))
            {
                if (log.IsDebugEnabled)
                    log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} {LateMs} ms after its own budget ran out; discarded", step.Name, scope.RequestId,
                        error is OperationCanceledException ? "cancelled" : "finished", LogValues.Milliseconds(Stopwatch.GetElapsedTime(_started) - step.Timeout!.Value));
                Ended(error, "timed_out");
                return;
            }

            var abandoned = false;
            if (!Move(Lingering, FinishedLate))
            {
                if (!Move(Abandoned, FinishedAbandoned)) return;
                abandoned = true;
            }
            setup.Runtime.Counters.LingeringEnded(this);
            var late = Stopwatch.GetElapsedTime(StoppedTimestamp);
            if (abandoned)
            {
                FetchTelemetry.LateCompletion(_abandonedSpan, step.Name, late, failed: error is not null);
                FetchTelemetry.RecordDuration(setup.Runtime, step.Name, Stopwatch.GetElapsedTime(_started), "abandoned", owner.Cause, error);
                FetchTelemetry.RecordCancellation(setup.Runtime, step.Name, owner.TokenFiredAt());
            }
            else Ended(error, "cancelled", late);
            if (abandoned)
                TracedLog.Write(log, _abandonedSpan, LogLevel.WarningLevel, "Abandoned fetch {Fetcher} of {RequestId} finished {LateMs} ms after its token fired; its {Outcome} was discarded",
                    step.Name, scope.RequestId, LogValues.Milliseconds(late), error is null ? "result" : "failure");
            else if (log.IsDebugEnabled)
                log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} {LateMs} ms after its token fired", step.Name, scope.RequestId,
                    error is OperationCanceledException ? "cancelled" : "finished", LogValues.Milliseconds(late));
        }

        /// <summary>Its own budget ran out first: true when the timer, not the continuation or the stop, decided the outcome.</summary>
        public bool TryTimeOut() => Move(Running, TimedOut);

        /// <summary>Called as the actor stops, before its token fires. True when the fetch is still running (it now lingers).</summary>
        public bool ActorStopped()
        {
            Interlocked.Exchange(ref _stopped, Stopwatch.GetTimestamp());
            var state = Volatile.Read(ref _state);
            if (state is not (Running or TimedOut)) return false;
            // Registered before the state moves to Lingering: from then on the fetch may finish on another thread at once,
            // and its LingeringEnded must find the entry, or the leak report keeps a stale one.
            var counters = setup.Runtime.Counters;
            counters.LingeringStarted(this);
            if (!Move(state, Lingering))
            {
                counters.LingeringEnded(this);
                return false;
            }
            setup.Runtime.Scheduler.Advanced.ScheduleOnce(setup.Runtime.Settings.AbandonedFetchGrace, CheckAbandoned);
            return true;
        }

        /// <summary>
        /// The fetch ended after its token fired: its span ends with the cause (and a link to the failing sibling's span),
        /// and its duration and how long it took to stop after its token fired are recorded.
        /// </summary>
        private void Ended(Exception? error, string outcome, TimeSpan? late = null)
        {
            var cause = owner.Cause;
            var linkTo = cause?.Kind == CancellationCauseKind.SiblingFailed ? setup.Scope.FailedSpan?.Context ?? default : default;
            FetchTelemetry.Cancelled(owner.TakeSpan(), cause, linkTo, owner.TokenFiredAt(), outcome, late);
            FetchTelemetry.RecordDuration(setup.Runtime, step.Name, Stopwatch.GetElapsedTime(_started), outcome, cause, error);
            FetchTelemetry.RecordCancellation(setup.Runtime, step.Name, owner.TokenFiredAt());
        }

        private void CheckAbandoned()
        {
            if (!Move(Lingering, Abandoned)) return;
            var runtime = setup.Runtime;
            runtime.Counters.FetchAbandoned();
            FetchTelemetry.RecordAbandoned(runtime, step.Name);
            var cause = owner.Cause;
            if (owner.TakeSpan() is { } span)
            {
                _abandonedSpan = span;
                FetchTelemetry.Cancelled(span, cause, cause?.Kind == CancellationCauseKind.SiblingFailed ? setup.Scope.FailedSpan?.Context ?? default : default,
                    owner.TokenFiredAt(), "abandoned");
            }
            TracedLog.Write(runtime.Log, _abandonedSpan, LogLevel.WarningLevel, "Fetch {Fetcher} of {RequestId} ignored its cancellation for {GraceMs} ms and is abandoned; it keeps running, its outcome will be discarded",
                step.Name, setup.Scope.RequestId, runtime.Settings.AbandonedFetchGrace.TotalMilliseconds);
        }

        /// <summary>
        /// What a finished task threw: the very exception, never a replacement. A task cancelled by an
        /// <see cref="OperationCanceledException"/> the fetch threw itself (an HttpClient timeout) keeps that exception.
        /// </summary>
        private static Exception? ErrorOf(Task task)
        {
            if (task.IsCompletedSuccessfully) return null;
            if (task.IsFaulted)
            {
                var errors = task.Exception!.InnerExceptions;
                return errors.Count == 1 ? errors[0] : task.Exception;
            }
            try
            {
                task.GetAwaiter().GetResult(); // rethrows the cancellation exception the task holds
            }
            catch (Exception e)
            {
                return e;
            }
            return new TaskCanceledException(task);
        }
    }

    private sealed class Producer(TaskFetchStep<TKey> step, FetcherSetup<TKey> setup, AttemptCounter? attempts) : IIndirectActorProducer
    {
        public Type ActorType => typeof(Fetcher<TKey>);

        public ActorBase Produce() => new Fetcher<TKey>(step, setup, attempts);

        public void Release(ActorBase actor) { }
    }
}
