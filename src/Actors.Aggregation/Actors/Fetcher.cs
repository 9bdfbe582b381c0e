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
    private bool _cleanedUp;

    private Fetcher(TaskFetchStep<TKey> step, FetcherSetup<TKey> setup, AttemptCounter? attempts)
    {
        _setup = setup;
        _step = step;
        _attempts = attempts;
        if (!setup.Runtime.SharesRequestToken) _own = CancellationTokenSource.CreateLinkedTokenSource(setup.Scope.Token);
    }

    public static Props Props(TaskFetchStep<TKey> step, FetcherSetup<TKey> setup, AttemptCounter? attempts) =>
        Akka.Actor.Props.CreateBy(new Producer(step, setup, attempts));

    /// <summary>
    /// Why this fetch's token fired: <see cref="CancellationCauseKind.FetchFinished"/> once its outcome was delivered (the
    /// token fired after the fetch was done, whatever happened to the request later); else its own cause when its own token
    /// fired first (stopped from outside), else the request's.
    /// </summary>
    public CancellationCause? Cause =>
        _run is { IsDelivered: true } ? CancellationCause.Finished : Volatile.Read(ref _ownCause) ?? _setup.Scope.Cause;

    protected override void PreStart()
    {
        _setup.Runtime.Counters.FetcherStarted();
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
            _run = new FetchRun(_setup, _step, Self);
            if (task.IsCompleted) _run.OnCompleted(task);
            else task.ContinueWith(static (t, run) => ((FetchRun)run!).OnCompleted(t), _run,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        // Thrown before the fetch's first await (or a null task): a failure like any other, unless the request was decided
        // already (the fetch may have started with a fired token), and then it is discarded like any late outcome.
        if (scope.IsEnded) return;
        var failure = _step.FailureOf(thrown ?? new InvalidOperationException($"Fetcher '{_step.Name}' returned a null Task."));
        scope.EndOnFailure(failure, _setup.Runtime.Log);
        // Akka runs no PostStop for an actor whose PreStart threw: clean up here.
        CleanUp();
        throw new FetchFailedException(_step.Index, failure);
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
        _own.Cancel();
        // A fetch still running may yet register on the token; the source owns no timer, so leaving it to the GC is safe.
        // Disposing it also unlinks it from the request's token.
        if (!stillRunning) _own.Dispose();
    }

    private sealed record FetchFaulted(FetcherFailed Failure) : IDeadLetterSuppression, INoSerializationVerificationNeeded;

    /// <summary>
    /// The one object a fetch's continuation touches: where the fetch stands, moved only by compare-and-swap.
    /// <list type="bullet">
    /// <item><c>Running</c>: the task runs and its actor is alive. Left by the continuation (to Delivered or Discarded) or by
    /// the actor's stop (to Lingering), whichever comes first.</item>
    /// <item><c>Delivered</c>: the outcome went to the coordinator (a part) or to this actor (a failure). Final.</item>
    /// <item><c>Discarded</c>: finished after its request's scope ended, before its actor stopped: nobody wants the outcome. Final.</item>
    /// <item><c>Lingering</c>: its actor stopped (its token had fired) while the task still ran. Left by the continuation (to
    /// FinishedLate) or by the grace check (to Abandoned).</item>
    /// <item><c>Abandoned</c>: still running <c>abandoned-fetch-grace</c> after its actor stopped: it ignores its token. Left
    /// only by the continuation (to FinishedAbandoned), if the task ever ends.</item>
    /// <item><c>FinishedLate</c>, <c>FinishedAbandoned</c>: finished after its actor stopped; the outcome is observed and dropped. Final.</item>
    /// </list>
    /// </summary>
    private sealed class FetchRun(FetcherSetup<TKey> setup, TaskFetchStep<TKey> step, IActorRef fetcher) : ILingeringFetch
    {
        private const int Running = 0, Delivered = 1, Discarded = 2, Lingering = 3, Abandoned = 4, FinishedLate = 5, FinishedAbandoned = 6;
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
                return;
            }

            if (Move(Running, Delivered))
            {
                if (log.IsDebugEnabled)
                    log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} in {ElapsedMs} ms", step.Name, scope.RequestId,
                        error is null ? "succeeded" : "failed", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
                if (error is null)
                {
                    setup.Coordinator.Tell(new PartCompleted(step.Index, step.ResultOf(task)), fetcher);
                    return;
                }
                var failure = step.FailureOf(error);
                scope.EndOnFailure(failure, log);
                fetcher.Tell(new FetchFaulted(failure), fetcher);
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
                log.Warning("Abandoned fetch {Fetcher} of {RequestId} finished {LateMs} ms after its token fired; its {Outcome} was discarded",
                    step.Name, scope.RequestId, late.TotalMilliseconds, error is null ? "result" : "failure");
            else if (log.IsDebugEnabled)
                log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} {LateMs} ms after its token fired", step.Name, scope.RequestId,
                    error is OperationCanceledException ? "cancelled" : "finished", late.TotalMilliseconds);
        }

        /// <summary>Called as the actor stops, before its token fires. True when the fetch is still running (it now lingers).</summary>
        public bool ActorStopped()
        {
            Interlocked.Exchange(ref _stopped, Stopwatch.GetTimestamp());
            if (Volatile.Read(ref _state) != Running) return false;
            // Registered before the state moves to Lingering: from then on the fetch may finish on another thread at once,
            // and its LingeringEnded must find the entry, or the leak report keeps a stale one.
            var counters = setup.Runtime.Counters;
            counters.LingeringStarted(this);
            if (!Move(Running, Lingering))
            {
                counters.LingeringEnded(this);
                return false;
            }
            setup.Runtime.Scheduler.Advanced.ScheduleOnce(setup.Runtime.Settings.AbandonedFetchGrace, CheckAbandoned);
            return true;
        }

        private void CheckAbandoned()
        {
            if (!Move(Lingering, Abandoned)) return;
            var runtime = setup.Runtime;
            runtime.Counters.FetchAbandoned();
            runtime.Log.Warning("Fetch {Fetcher} of {RequestId} ignored its cancellation for {GraceMs} ms and is abandoned; it keeps running, its outcome will be discarded",
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
