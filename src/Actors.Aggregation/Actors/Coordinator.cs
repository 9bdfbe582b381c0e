using Akka.Actor;
using Akka.Event;
using Akka.Actor.Internal;

namespace Actors.Aggregation;

/// <summary>
/// The life of one request, top to bottom. The aggregator creates one coordinator per accepted request. The coordinator
/// <list type="number">
/// <item>arms one timer for the request's absolute deadline (arrival + timeout; progress never extends it),</item>
/// <item>starts one fetcher child per declared fetcher: all at once, or at most <c>MaxConcurrency</c> at a time in declared order,</item>
/// <item>records every part's outcome in a <see cref="PartLedger"/> and asks the definition's <see cref="CompletionPolicy"/>
/// what it means; the deadline, a <see cref="CancelAggregate"/>, the requester's death, a stop from outside and a crash are
/// outcomes too,</item>
/// <item>decides once, in <see cref="Decide"/>, the one exit every outcome goes through,</item>
/// <item>and stops, which stops every fetcher still alive, exactly once.</item>
/// </list>
/// <para><b>When is the reply sent?</b> Only in <see cref="Decide"/>, the moment the outcome is known: the last part the policy
/// needs, the first failure that decides, the deadline, a cancel. Never after the fetchers wind down; a fetch that ignores its
/// token never delays it. A requester that died gets no reply.</para>
/// <para><b>What stops the children?</b> The request's scope ends in <see cref="Decide"/> (or earlier: at the deadline, on the
/// timer's thread; under FailFast, in the failing fetch's own continuation), so every running fetch's token fires at once.
/// Then the coordinator stops itself, and Akka stops each fetcher actor with it. Fetchers that must stop earlier (to free a
/// slot, or after their failure under a policy that goes on) are stopped one by one, and the coordinator waits for them
/// before it stops, so no actor is stopped twice.</para>
/// </summary>
internal sealed class Coordinator<TKey, TResult> : UntypedActor
{
    private enum Phase : byte
    {
        /// <summary>Fetchers run; outcomes are recorded and judged.</summary>
        Running,

        /// <summary>Replied; waiting for the fetchers stopped one by one to be gone before stopping itself.</summary>
        Decided,

        /// <summary>Stopping itself, and with it every fetcher still alive; or stopped from outside.</summary>
        Stopping,
    }

    private readonly AggregatorRuntime<TKey, TResult> _runtime;
    private readonly AggregationDefinition<TKey, TResult> _definition;
    private readonly CompletionPolicy _policy;
    private readonly RequestScope<TKey> _scope;
    private readonly PartLedger _parts;
    private readonly IActorRef _self;
    private readonly IActorContext _context;
    private readonly FetcherSetup<TKey> _fetcherSetup;
    private readonly IActorRef?[]? _children; // when fetchers stop one by one: each live fetcher not yet stopped, by index

    private Phase _phase;
    private int _nextToStart;
    private int _alive;            // fetcher actors started and not yet gone (what a concurrency limit counts)
    private int _stopping;         // fetcher actors stopped one by one and not yet gone
    private bool _requesterGone;
    private (int Index, FetcherFailed? Failure, Exception? Cause) _supervised; // the decider's record, for AfterFailure
    private Timer? _deadline;

    private Coordinator(AggregatorRuntime<TKey, TResult> runtime, RequestScope<TKey> scope)
    {
        _runtime = runtime;
        _definition = runtime.Definition;
        _policy = _definition.Policy;
        _scope = scope;
        _parts = new PartLedger(_definition.FetcherNames, _definition.Fallbacks);
        if (scope.Shared) scope.Ledger = _parts;
        _self = Self;
        _context = Context;
        _fetcherSetup = new FetcherSetup<TKey>(scope, _self, runtime);
        if (runtime.StopsFetchersOneByOne) _children = new IActorRef?[_definition.Steps.Length];
    }

    public static Props Props(AggregatorRuntime<TKey, TResult> runtime, RequestScope<TKey> scope) =>
        RequestMailbox.Props(new Producer(runtime, scope));

    protected override void PreStart()
    {
        try
        {
            var remaining = _scope.Remaining;
            if (remaining <= TimeSpan.Zero)
            {
                // The request waited in the aggregator's mailbox past its deadline: no fetcher is worth starting.
                Decide(_policy.OnDeadline(_parts, _scope.Timeout));
                return;
            }
            // A .NET timer rather than IWithTimers: Akka's scheduler ticks every 10 ms (measured deadline overshoot p99
            // 39-42 ms vs 20-24 ms). Disposed when the request is decided and in PostStop, so it never outlives the request.
            _deadline = new Timer(static state => ((Coordinator<TKey, TResult>)state!).OnDeadlineTimer(), this, remaining, Timeout.InfiniteTimeSpan);
            _runtime.Faults?.WhileStarting(_scope.RequestId); // test-only breakage
            StartFetchers();
        }
        catch (Exception e)
        {
            // Whatever fails while a request starts, the request still gets its one reply and frees its slot.
            Decide(Verdict.Fail(new AggregationCancelled($"the request could not be started ({Errors.Describe(e)})"),
                new CancellationCause(CancellationCauseKind.AggregatorStopped, "the request could not be started")));
        }
    }

    /// <summary>Starts fetchers in declared order while the concurrency limit allows (all of them without a limit).</summary>
    private void StartFetchers()
    {
        var steps = _definition.Steps;
        var limit = _definition.MaxConcurrency;
        while (_phase == Phase.Running && !_scope.IsEnded && _nextToStart < steps.Length && (limit is null || _alive < limit))
        {
            var step = steps[_nextToStart++];
            var attempts = step.Retries ? new AttemptCounter() : null;
            _parts.Start(step.Index, attempts);
            IActorRef child;
            try
            {
                // Named after the fetcher, so paths, logs and leak reports say which fetcher an actor runs.
                child = _context.ActorOf(step.CreateFetcher(_fetcherSetup, attempts), step.ActorName);
            }
            catch (Exception e)
            {
                // A fetcher that cannot be started has failed.
                OnFailure(step.Index, step.FailureOf(e));
                continue;
            }
            _alive++;
            if (_children is not null) _children[step.Index] = child;
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PartCompleted part:
                if (_phase != Phase.Running || !_parts.Succeed(part.Index, part.Value)) return;
                if (_children is not null) StopChild(part.Index); // its slot frees when it is gone
                Decide(_policy.OnSuccess(_parts));
                break;
            case DeadlineTick:
                Decide(_policy.OnDeadline(_parts, _scope.Timeout));
                break;
            case CancelAggregate:
                // The aggregator forwards only its requester's cancels.
                Decide(Verdict.Fail(new AggregationCancelled(AggregationCancelled.ByRequester), CancellationCause.Caller));
                break;
            case RunAbandoned abandoned:
                // A shared run whose every requester left (cancelled, died, timed out): nobody wants it any more.
                Decide(Verdict.Fail(new AggregationCancelled(RunAbandoned.Reason), abandoned.Cause));
                break;
            case RequesterTerminated:
                // Nobody is left to answer: cancel everything, like a server noticing its client went away.
                _requesterGone = true;
                Decide(Verdict.Fail(new AggregationCancelled("the requester terminated"), CancellationCause.Requester));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// A fetcher's failure, from the supervisor strategy (or a fetcher that could not be started). An optional part's failure
    /// (its own budget's running out included) is no failure of the request: its fallback stands in, as if it had succeeded.
    /// </summary>
    private void OnFailure(int index, FetcherFailed failure)
    {
        if (_children is not null) StopChild(index); // a failed fetcher is suspended: release it, and its slot
        if (_phase != Phase.Running) return;
        if (_parts.IsOptional(index))
        {
            if (!_parts.FallBack(index, failure)) return;
            if (_runtime.Log.IsDebugEnabled)
                _runtime.Log.Debug("Fetch {Fetcher} of {RequestId} fell back ({Error}); the request goes on", failure.Fetcher, _scope.RequestId,
                    Errors.Describe(failure.Exception));
            Decide(_policy.OnSuccess(_parts));
            return;
        }
        if (!_parts.Fail(index, failure)) return;
        Decide(_policy.OnFailure(_parts, failure));
    }

    /// <summary>
    /// The one exit. In order: fixes the outcome (Combine runs here), ends the request's scope with the verdict's cause
    /// (every running fetch's token fires), tells the aggregator the request is decided, replies, logs, and stops.
    /// The aggregator hears before the requester does, so that whatever the requester does on the reply (cancel it, reuse
    /// its id, send the next request at max-in-flight) finds the request already gone.
    /// </summary>
    private void Decide(Verdict verdict, bool stoppedFromOutside = false)
    {
        if (!verdict.IsDecided || _phase != Phase.Running) return;
        verdict = FirstEnding(verdict);
        _phase = stoppedFromOutside ? Phase.Stopping : Phase.Decided;
        _deadline?.Dispose();

        var reply = Outcome(verdict, out var cause);
        _scope.TryEnd(cause, _runtime.Log);
        // A shared run's requests are measured each on its own, by the aggregator that answers them.
        if (_scope.Shared) Telemetry.EndSpan(_scope.Span, reply);
        else
        {
            Telemetry.EndRequest(_scope.Span, reply, _runtime.Name, _runtime.PolicyName, reply.Elapsed);
            Telemetry.RequestAnswered();
        }
        // "Decided": see RequestScope. A shared run's reply says so itself, in one message through the aggregator.
        if (!stoppedFromOutside && !_scope.Shared) _context.Parent.Tell(_scope, _self);
        // Sent as the aggregator, which outlives this coordinator, so the requester has someone to answer.
        if (!_requesterGone) _scope.Requester.Tell(_scope.Shared ? new RunDecided(reply) : reply, _context.Parent);
        Log(reply);
        if (!stoppedFromOutside) StopWhenFetchersAreGone();
    }

    /// <summary>
    /// The scope may have ended before a verdict reached this mailbox. A failing fetch that ended it (FailFast) came first,
    /// so it is the cause. If the deadline timer ended it, a verdict that rests on parts which finished before it stands (as
    /// errgroup's Wait returns nil when every task returned nil); any other verdict (a cancel, the requester's death, a stop)
    /// came after the deadline and yields to it.
    /// </summary>
    private Verdict FirstEnding(Verdict verdict)
    {
        if (_scope.EndingFailure is { } first && !ReferenceEquals(verdict.Failure, first))
            return _policy.OnFailure(_parts, first) is { IsDecided: true } decided ? decided : verdict;
        if (!verdict.RestsOnParts && _scope.Cause is { Kind: CancellationCauseKind.DeadlineExceeded } && verdict.Cause?.Kind != CancellationCauseKind.DeadlineExceeded)
            return _policy.OnDeadline(_parts, _scope.Timeout);
        return verdict;
    }

    /// <summary>The reply a verdict makes, and the cause the fetches still running get. Combine runs here: if it throws, that is the outcome.</summary>
    private IAggregateReply Outcome(Verdict verdict, out CancellationCause cause)
    {
        cause = verdict.Cause ?? CancellationCause.Completed;
        var elapsed = _scope.Elapsed;
        var failure = verdict.Failure;
        if (verdict.Kind is VerdictKind.Succeed or VerdictKind.Collect)
        {
            // Optional parts still running or waiting are not waited for any longer: they fall back.
            _parts.SettleOptional(_scope.Timeout);
            try
            {
                var result = _definition.Combine(_parts.Parts());
                return verdict.Kind == VerdictKind.Succeed
                    ? new AggregateSucceeded<TResult>(_scope.RequestId, result, elapsed) { FellBack = _parts.FellBackOutcomes() }
                    : new AggregateCompleted<TResult>(_scope.RequestId, result, _parts.Outcomes(), elapsed);
            }
            catch (Exception e)
            {
                failure = new CombineFailed(e);
            }
        }
        return new AggregateFailed(_scope.RequestId, failure!) { Elapsed = elapsed };
    }

    /// <summary>
    /// The request's one log event, at the level its outcome deserves. While it is traced, the event also carries the
    /// request span's <c>TraceId</c> and <c>SpanId</c>, so a log line can be found from its trace and the other way round.
    /// </summary>
    private void Log(IAggregateReply reply)
    {
        var log = _runtime.Log;
        var elapsedMs = LogValues.Milliseconds(reply.Elapsed);
        switch (reply)
        {
            case AggregateFailed when _requesterGone:
                if (log.IsInfoEnabled)
                    Write(LogLevel.InfoLevel, "Aggregation {RequestId} {Outcome} after {ElapsedMs} ms: its requester terminated; fetchers stopped",
                    _scope.RequestId, "abandoned-by-requester", elapsedMs);
                break;
            case AggregateFailed { Reason: AggregationCancelled { Reason: AggregationCancelled.ByRequester } } cancelled:
                // The requester's own choice (a client that went away, say): routine, not a warning.
                if (log.IsInfoEnabled)
                    Write(LogLevel.InfoLevel, "Aggregation {RequestId} {Outcome} in {ElapsedMs} ms: {Reason}",
                        _scope.RequestId, "cancelled", elapsedMs, cancelled.Reason.Describe());
                break;
            case AggregateFailed failed:
                if (log.IsWarningEnabled)
                    Write(LogLevel.WarningLevel, "Aggregation {RequestId} {Outcome} in {ElapsedMs} ms: {Reason}",
                        _scope.RequestId, OutcomeOf(failed.Reason), elapsedMs, failed.Reason.Describe());
                break;
            case AggregateCompleted<TResult> completed when !completed.AllSucceeded:
                if (log.IsWarningEnabled)
                    Write(LogLevel.WarningLevel, "Aggregation {RequestId} {Outcome} in {ElapsedMs} ms with {Incomplete} of {Count} parts missing: {Parts}",
                        _scope.RequestId, "completed-partially", elapsedMs, _parts.Count - _parts.Succeeded, _parts.Count,
                        string.Join(", ", completed.Parts.Where(o => o.Status != PartStatus.Succeeded).Select(o => $"{o.Fetcher}={o.Status}")));
                break;
            case AggregateSucceeded<TResult> { FellBack.Count: > 0 } degraded:
                if (log.IsWarningEnabled)
                    Write(LogLevel.WarningLevel, "Aggregation {RequestId} {Outcome} in {ElapsedMs} ms with {FellBack} of {Count} parts fallen back: {Parts}",
                        _scope.RequestId, "succeeded-with-fallbacks", elapsedMs, degraded.FellBack.Count, _parts.Count,
                        string.Join(", ", degraded.FellBack.Select(o => $"{o.Fetcher} ({(o.Error is { } e ? Errors.Describe(e) : "no error")})")));
                break;
            default:
                if (log.IsInfoEnabled)
                    Write(LogLevel.InfoLevel, "Aggregation {RequestId} {Outcome} in {ElapsedMs} ms", _scope.RequestId,
                        reply is AggregateCompleted<TResult> ? "completed" : "succeeded", elapsedMs);
                break;
        }
    }

    // Callers check the level first: the arguments' array and boxes are made only for an event that is written.
    private void Write(LogLevel level, string template, params object[] values) => TracedLog.Write(_runtime.Log, _scope.Span, level, template, values);

    /// <summary>
    /// Stops the request. Fetchers still running stop with the coordinator, each exactly once. When some were stopped one by
    /// one and are not gone yet, the coordinator stops the rest the same way and waits for all of them: stopping itself at
    /// once would send those a second Terminate, a dead letter.
    /// </summary>
    private void StopWhenFetchersAreGone()
    {
        if (_runtime.Faults is { } faults && faults.LeaksAFetcher(_context, _scope.RequestId, _definition.Steps, _children))
        {
            _phase = Phase.Stopping; // test-only breakage: it never stops, and a fetcher stays alive under it
            return;
        }
        if (_children is not null && _stopping > 0)
            for (var i = 0; i < _children.Length; i++)
                StopChild(i);
        if (_stopping > 0) return;
        _phase = Phase.Stopping;
        _context.Stop(_self);
    }

    private void StopChild(int index)
    {
        if (_children![index] is not { } child) return;
        _children[index] = null;
        _stopping++;
        _context.Stop(child);
    }

    /// <summary>
    /// A fetcher actor is gone (from the strategy's HandleChildTerminated): a slot is free, or one fewer to wait for. While
    /// the coordinator itself is being stopped from outside (<paramref name="stopping"/>: its children are stopped with it),
    /// a freed slot starts nothing: Akka would refuse the child, and the request's answer is PostStop's.
    /// </summary>
    private void OnFetcherGone(bool stopping)
    {
        _alive--;
        if (_stopping > 0) _stopping--;
        if (_phase == Phase.Running && !stopping) StartFetchers();
        else if (_phase == Phase.Decided && _stopping == 0) StopWhenFetchersAreGone();
    }

    /// <summary>On the timer's thread: touches only the scope and the timer. Ends the scope at the deadline itself, so the
    /// fetches' tokens fire now, and tells the coordinator.</summary>
    private void OnDeadlineTimer()
    {
        // A .NET timer may fire a little early, and a shared run's deadline may have moved: never reported before it has passed.
        if (_scope.TryEndAtDeadline(_runtime.Log, out var remaining))
        {
            _self.Tell(DeadlineTick.Instance, ActorRefs.NoSender);
            return;
        }
        // Otherwise ended by someone else first (a decision, a failing fetch: that one is on its way here), or not due yet.
        if (remaining <= TimeSpan.Zero || Volatile.Read(ref _deadline) is not { } timer) return;
        try
        {
            timer.Change(remaining + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The request was decided meanwhile.
        }
    }

    protected override SupervisorStrategy SupervisorStrategy() => new FetcherStrategy(this);

    /// <summary>The decider: records which fetcher failed and with what; the directive is always Stop, never Restart.</summary>
    private Directive Supervise(Exception cause)
    {
        if (cause is ActorInitializationException { InnerException: { } initCause }) cause = initCause;
        _supervised = cause is FetchFailedException fetch ? (fetch.Index, fetch.Failure, cause) : (-1, null, cause);
        return Directive.Stop;
    }

    /// <summary>After the decider: the failure becomes an outcome. Under FailFast it decides, which stops every fetcher.</summary>
    private void AfterFailure(IActorRef child)
    {
        var (index, failure, cause) = _supervised;
        _supervised = default;
        if (index < 0) index = IndexOf(child);
        if (index < 0)
        {
            _context.Stop(child); // not one of this request's fetchers: cannot happen, but never leave it suspended
            return;
        }
        // Not a fetch's failure but a bug in a fetcher actor: the fetcher failed all the same, under its own name.
        OnFailure(index, failure ?? _definition.Steps[index].FailureOf(cause!));
    }

    private int IndexOf(IActorRef child)
    {
        var steps = _definition.Steps;
        for (var i = 0; i < steps.Length; i++)
            if (string.Equals(steps[i].ActorName, child.Path.Name, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>
    /// All-for-one, stop, never restart. "Stop all" is done by the decision, which stops the coordinator and with it every
    /// fetcher exactly once; a failure that does not decide the request stops only that fetcher. Failures are expected
    /// (fetches fail), so the strategy does not log them: the decision does, once, at the right level.
    /// </summary>
    private sealed class FetcherStrategy(Coordinator<TKey, TResult> coordinator)
        : AllForOneStrategy(0, 0, coordinator.Supervise, loggingEnabled: false)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children) => coordinator.AfterFailure(child);

        public override void HandleChildTerminated(IActorContext actorContext, IActorRef child, IEnumerable<IInternalActorRef> children) =>
            coordinator.OnFetcherGone(stopping: actorContext is ActorCell { ChildrenContainer.IsTerminating: true });
    }

    protected override void PostStop()
    {
        _deadline?.Dispose();
        // Stopped from outside before deciding: the aggregator restarted or stopped, this coordinator failed, or the system is
        // shutting down. The request still gets its reply; the aggregator frees its slot when it sees this actor gone.
        if (_phase != Phase.Running) return;
        var cause = _runtime.StopCause(_self);
        Decide(Verdict.Fail(new AggregationCancelled(cause.Description), cause), stoppedFromOutside: true);
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

    private sealed class DeadlineTick : IDeadLetterSuppression, INoSerializationVerificationNeeded
    {
        public static readonly DeadlineTick Instance = new();
    }

    /// <summary>Creates the actor directly: no reflection, no compiled expression, on the per-request path.</summary>
    private sealed class Producer(AggregatorRuntime<TKey, TResult> runtime, RequestScope<TKey> scope) : IIndirectActorProducer
    {
        public Type ActorType => typeof(Coordinator<TKey, TResult>);

        public ActorBase Produce() => new Coordinator<TKey, TResult>(runtime, scope);

        public void Release(ActorBase actor) { }
    }
}
