using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// Runs one fetch as a task. Its token fires when the request ends (the coordinator decides, the deadline passes, or under
/// FailFast a fetch fails) and in PostStop, whatever stopped the actor. A successful part goes straight to the coordinator;
/// a failure is thrown inside this actor so the coordinator's all-for-one strategy sees it.
/// </summary>
internal sealed class Fetcher<TKey> : UntypedActor
{
    private readonly FetcherInfo<TKey> _info;
    private readonly TaskFetchStep<TKey> _step;
    // Null when the fetch uses the request's token itself (FailFast without a limit: this actor stops only when the request ends).
    private readonly CancellationTokenSource? _own;
    private FetchRun? _run;
    private bool _cleanedUp;

    public Fetcher(FetcherInfo<TKey> info)
    {
        _info = info;
        _step = (TaskFetchStep<TKey>)info.Step;
        if (!info.Runtime.SharesRequestToken) _own = CancellationTokenSource.CreateLinkedTokenSource(info.Request.Token);
    }

    public static Props Props(FetcherInfo<TKey> info) => Akka.Actor.Props.CreateBy(new Producer(info));

    protected override void PreStart()
    {
        _info.Runtime.Counters.FetcherStarted();
        Task? task;
        Exception? failure = null;
        try
        {
            task = _step.Start(_info, _own?.Token ?? _info.Request.Token);
        }
        catch (Exception e)
        {
            task = null;
            failure = e;
        }
        if (task is null)
        {
            // Thrown before the fetch's first await (or a null task): a failure like any other, unless the request was
            // decided already (the fetch may have started with a fired token): then it is discarded like a late outcome.
            if (_info.Request.IsEnded) return;
            failure ??= new InvalidOperationException($"Fetcher '{_step.Name}' returned a null Task.");
            FetchRun.EndOnFailure(_info, _step);
            // Akka does not run PostStop for an actor whose PreStart threw, so clean up here.
            CleanUp();
            throw FetchFailedException.Of(_step, failure);
        }

        _run = new FetchRun(_info, _step, Self);
        if (task.IsCompleted) _run.OnCompleted(task);
        else task.ContinueWith(static (t, run) => ((FetchRun)run!).OnCompleted(t), _run,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    protected override void OnReceive(object message)
    {
        if (message is FetchFaulted faulted) throw FetchFailedException.Of(_step, faulted.Cause);
        Unhandled(message);
    }

    protected override void PostStop() => CleanUp();

    private void CleanUp()
    {
        if (_cleanedUp) return;
        _cleanedUp = true;
        _info.Runtime.Counters.FetcherStopped();
        // Mark the run stopped before cancelling: a cooperative fetch may complete inside Cancel(), and must not report.
        var lingering = _run?.Stop() ?? false;
        if (_own is null)
        {
            // This actor stops only when the request ends; if nobody has ended it yet, the aggregator or the system is
            // stopping the request from outside, and the siblings' tokens are this one.
            if (!_info.Request.IsEnded) _info.Request.End(_info.Runtime.StopCause(), _info.Runtime.Log);
            return;
        }
        // Stopped while fetching and nobody said why: the aggregator or the system is stopping the request from outside.
        if (lingering && _info.Request.Cause is null) _info.Request.SetCause(_info.Runtime.StopCause());
        _own.Cancel();
        // A fetch still running may yet register on the token; the source owns no timer, so leaving it to the GC is safe.
        // Disposing it also unlinks it from the request's token.
        if (!lingering) _own.Dispose();
    }

    private sealed record FetchFaulted(Exception Cause) : IDeadLetterSuppression;

    /// <summary>
    /// The one object a fetch's continuation touches. Its state decides, once, whether the outcome is delivered
    /// (the actor is running) or discarded (the actor stopped first: the fetch lingers, and is abandoned past the grace).
    /// </summary>
    private sealed class FetchRun(FetcherInfo<TKey> info, TaskFetchStep<TKey> step, IActorRef fetcher)
    {
        private const int Running = 0, Delivered = 1, Stopped = 2, FinishedAfterStop = 3, FinishedAfterEnd = 4;
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _state;
        private long _tokenFired;
        private int _abandoned;

        public void OnCompleted(Task task)
        {
            // Read the outcome first: this observes any exception, so a late fault is never an unobserved task exception.
            var error = task.IsFaulted ? Unwrap(task.Exception!) : task.IsCanceled ? new TaskCanceledException(task) : null;
            var log = info.Runtime.Log;

            // The request was decided before this fetch finished (often inside the scope's Cancel()): nobody wants the
            // outcome, and the fetch has finished, so it is neither reported nor lingering.
            if (info.Request.IsEnded && Interlocked.CompareExchange(ref _state, FinishedAfterEnd, Running) == Running)
            {
                if (log.IsDebugEnabled)
                    log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} after its request ended; discarded", step.Name,
                        info.Request.RequestId, error is OperationCanceledException ? "cancelled" : "finished");
                return;
            }

            if (Interlocked.CompareExchange(ref _state, Delivered, Running) == Running)
            {
                if (log.IsDebugEnabled)
                    log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} in {ElapsedMs} ms", step.Name, info.Request.RequestId,
                        error is null ? "succeeded" : "failed", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
                if (error is null) info.Coordinator.Tell(new PartCompleted(step.Index, step.ResultOf(task)), fetcher);
                else
                {
                    EndOnFailure(info, step);
                    fetcher.Tell(new FetchFaulted(error), fetcher);
                }
                return;
            }

            if (Interlocked.CompareExchange(ref _state, FinishedAfterStop, Stopped) != Stopped) return;
            info.Runtime.Counters.LingeringEnded(this);
            var late = Stopwatch.GetElapsedTime(Interlocked.Read(ref _tokenFired));
            if (Volatile.Read(ref _abandoned) == 1)
                log.Warning("Abandoned fetch {Fetcher} of {RequestId} finished {LateMs} ms after its token fired; its {Outcome} was discarded",
                    step.Name, info.Request.RequestId, late.TotalMilliseconds, error is null ? "result" : "failure");
            else if (log.IsDebugEnabled)
                log.Debug("Fetch {Fetcher} of {RequestId} {Outcome} {LateMs} ms after its token fired", step.Name, info.Request.RequestId,
                    error is OperationCanceledException ? "cancelled" : "finished", late.TotalMilliseconds);
        }

        /// <summary>
        /// errgroup's cancel on the first error: under FailFast a fetch's failure decides the request, so its siblings'
        /// tokens fire here, without waiting for the coordinator to hear of it. Other policies outlive a failure.
        /// </summary>
        public static void EndOnFailure(FetcherInfo<TKey> info, FetchStep<TKey> step)
        {
            if (!info.Runtime.FailFast || info.Request.IsEnded) return;
            info.Request.End(new CancellationCause(CancellationCauseKind.SiblingFailed, $"fetcher '{step.Name}' failed") { Fetcher = step.Name },
                info.Runtime.Log);
        }

        /// <summary>Called from the actor's PostStop, before the token fires. True when the fetch is still running.</summary>
        public bool Stop()
        {
            Interlocked.Exchange(ref _tokenFired, Stopwatch.GetTimestamp());
            if (Volatile.Read(ref _state) != Running) return false;
            // Registered before the state moves to Stopped: from then on the fetch may finish on another thread at once,
            // and its LingeringEnded must find the entry, or the leak report keeps a stale one.
            info.Runtime.Counters.LingeringStarted(this, info.Request.RequestId, step.Name);
            if (Interlocked.CompareExchange(ref _state, Stopped, Running) != Running)
            {
                info.Runtime.Counters.LingeringEnded(this);
                return false;
            }
            info.Runtime.Scheduler.Advanced.ScheduleOnce(info.Runtime.Settings.AbandonedFetchGrace, CheckAbandoned);
            return true;
        }

        private void CheckAbandoned()
        {
            if (Volatile.Read(ref _state) != Stopped) return;
            Volatile.Write(ref _abandoned, 1);
            info.Runtime.Counters.FetchAbandoned();
            info.Runtime.Log.Warning("Fetch {Fetcher} of {RequestId} ignored its cancellation for {GraceMs} ms and is abandoned; it keeps running, its outcome will be discarded",
                step.Name, info.Request.RequestId, info.Runtime.Settings.AbandonedFetchGrace.TotalMilliseconds);
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
