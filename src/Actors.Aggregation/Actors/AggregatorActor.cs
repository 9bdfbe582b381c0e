using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using Akka.Actor.Internal;

namespace Actors.Aggregation;

/// <summary>
/// The front door: a long-lived actor that runs an <see cref="AggregationDefinition{TKey}"/> for every
/// <see cref="Aggregate{TKey}"/> it receives, each in its own coordinator child. Send it requests from actors (Tell, Ask)
/// or call <see cref="AggregatorRefExtensions.AggregateAsync{TKey, TResult}"/> from plain code.
/// </summary>
public static class AggregatorActor
{
    /// <summary>Props of an aggregator running <paramref name="definition"/>.</summary>
    /// <param name="definition">The aggregation to run.</param>
    /// <param name="settings">Settings; null reads <c>actors.aggregation</c> from the actor system's configuration.</param>
    public static Props Props<TKey>(AggregationDefinition<TKey> definition, AggregationSettings? settings = null) =>
        Props(definition, settings, faults: null);

    /// <summary>Test-only: an aggregator whose coordinators are broken on purpose by <paramref name="faults"/>.</summary>
    internal static Props Props<TKey>(AggregationDefinition<TKey> definition, AggregationSettings? settings, FaultInjection? faults)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.AggregatorProps(settings, faults);
    }
}

/// <summary>
/// Validates and admits requests, starts a coordinator per request, routes its requester's <see cref="CancelAggregate"/>,
/// answers stats and leak reports. It never runs user code itself, so a fetch or a combine that throws cannot take it down.
/// </summary>
internal sealed class AggregatorActor<TKey, TResult> : UntypedActor, IWithTimers
{
    private readonly AggregatorRuntime<TKey, TResult> _runtime;
    // Requests not yet decided, by id: their ids are taken and they count against max-in-flight.
    private readonly Dictionary<string, InFlight> _inFlight = new(StringComparer.Ordinal);
    // Coordinators alive, decided or not, for leak reports; removed when Akka reports the child gone.
    private readonly Dictionary<IActorRef, RequestScope<TKey>> _live = new(ReferenceEqualityComparer.Instance);
    // Each requester is watched once, however many of its requests are in flight: their count, to unwatch after the last.
    private readonly Dictionary<IActorRef, int> _requesters = new();
    private long _accepted;
    private long _rejected;
    private RejectionLog _rejections;
    private int _crashes; // coordinators recorded in Crashes and not yet gone: spares a lookup per request
    // Coalescing (WithCoalescing) only: the undecided run of each key, and every run by its id until its reply is passed on.
    // Keys are never null here: a null key is rejected before it could join anything.
#pragma warning disable CS8714
    private readonly Dictionary<TKey, SharedRun>? _runsByKey;
#pragma warning restore CS8714
    private readonly Dictionary<string, SharedRun>? _runsById;
    private long _coalesced;

    private AggregatorActor(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings, FaultInjection? faults)
    {
        _runtime = new AggregatorRuntime<TKey, TResult>(definition, settings ?? AggregationSettings.Create(Context.System),
            Context.GetLogger(), Context.System, faults) { Name = Context.Self.Path.Name, Latencies = LatencyWindow.For(definition.Steps) };
        if (definition.KeyComparer is { } keys)
        {
#pragma warning disable CS8714 // never a null key (see the field)
            _runsByKey = new Dictionary<TKey, SharedRun>(keys);
#pragma warning restore CS8714
            _runsById = new Dictionary<string, SharedRun>(StringComparer.Ordinal);
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        // The first use of Akka's scheduler starts its thread, and every thread scheduling meanwhile blocks until it runs:
        // a burst of lingering fetches on a cold system would stall the thread pool. Start it here, once.
        _runtime.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), static () => { });
        RequestMailbox.Register(Context.System);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Aggregate<TKey> request:
                Admit(request);
                break;
            case RequestScope<TKey> decided:
                // Its coordinator decided it: the slot and the id are free.
                Release(decided.RequestId, decided);
                break;
            case RunDecided decided:
                // A shared run decided: equal keys start a fresh one from now on; its requesters are answered.
                AnswerJoiners(decided.Reply);
                break;
            case JoinerDeadline { Joiner: var joiner }:
                // Only a deadline before the run's is this timer's to answer; at the run's own deadline the run decides, as it
                // would for a request of its own (CollectAll's parts, a verdict resting on parts finished in time).
                if (joiner.Attached && joiner.End < joiner.Run.Scope.Timeout)
                    Leave(joiner, new DeadlineExceeded(joiner.Timeout, joiner.Run.Scope.Ledger?.Pending() ?? []), CancellationCause.Deadline);
                break;
            case CancelAggregate cancel:
                RouteCancel(cancel);
                break;
            case Terminated terminated:
                // Only requesters are watched. Their requests have nobody left to answer: cancel them, like a server
                // noticing its client went away.
                if (!_requesters.Remove(terminated.ActorRef)) break;
                if (_runsByKey is not null)
                {
                    // Its joins leave their runs; a run nobody is left in is cancelled.
                    foreach (var joined in _inFlight.Values.Where(r => r.Joiner!.Requester.Equals(terminated.ActorRef)).ToArray())
                        Leave(joined.Joiner!, null, CancellationCause.Requester);
                    break;
                }
                foreach (var request in _inFlight.Values)
                    if (request.Scope.Requester.Equals(terminated.ActorRef)) request.Coordinator.Tell(RequesterTerminated.Instance, Self);
                break;
            case GetAggregatorStats:
                Sender.Tell(new AggregatorStats(_inFlight.Count, _runtime.Counters.LiveFetchers, _runtime.Counters.Lingering,
                    _runtime.Counters.Abandoned, _accepted, _rejected) { Coalesced = _coalesced });
                break;
            case GetLeakReport:
                Sender.Tell(LeakReporting.Build(_live.Select(r => (r.Value.RequestId, r.Key)).ToArray(), _runtime.Definition.Steps, _runtime), Self);
                break;
            case Serialization.UnreadableMessage unreadable:
                // Already logged at Warning by the serializer, naming the manifest and why.
                if (_runtime.Log.IsDebugEnabled) _runtime.Log.Debug("Aggregator ignored an unreadable message ({Manifest})", unreadable.Manifest);
                break;
            case RejectionSummaryTick:
                _rejections.Summarise(_runtime, Timers, Self.Path);
                break;
            case IAggregateRequest wrongKey:
                Reject(wrongKey.RequestId ?? NewRequestId(),
                    $"the key is a {wrongKey.KeyType.Name}, but this aggregator's key is a {typeof(TKey).Name}", busy: false, wrongKey);
                break;
            default:
                _runtime.Log.Warning("Aggregator received an unknown message of type {MessageType} from {Sender}; ignored",
                    message?.GetType().FullName ?? "null", Sender);
                Unhandled(message);
                break;
        }
    }

    private void Admit(Aggregate<TKey> request)
    {
        var arrival = Stopwatch.GetTimestamp();
        var requestId = request.RequestId ?? NewRequestId();
        var settings = _runtime.Settings;
        if (request.Key is null)
        {
            Reject(requestId, "the key must not be null", busy: false, request);
            return;
        }
        if (request.Timeout is { } timeout && AggregationSettings.InvalidTimeout(timeout) is { } invalid)
        {
            Reject(requestId, $"the timeout {invalid}", busy: false, request);
            return;
        }
        if (string.IsNullOrWhiteSpace(requestId))
        {
            Reject(requestId, "the request id must not be empty", busy: false, request);
            return;
        }
        if (_inFlight.ContainsKey(requestId))
        {
            Reject(requestId, $"a request with id '{requestId}' is already in flight", busy: false, request);
            return;
        }
        if (settings.MaxInFlight > 0 && _inFlight.Count >= settings.MaxInFlight)
        {
            Reject(requestId, RequestRejected.Busy, busy: true, request);
            return;
        }

        var budget = request.Timeout ?? _runtime.Definition.Timeout ?? settings.DefaultTimeout;
        if (_runsByKey is not null)
        {
            Join(request, requestId, arrival, budget);
            return;
        }
        var scope = new RequestScope<TKey>(requestId, request.Key, Sender, arrival, budget, _runtime.Policy.FailureEndsRequest)
        {
            Span = Telemetry.StartRequest(_runtime.Name, requestId, request.Key, request.TraceParent, request.TraceState),
        };
        var coordinator = Context.ActorOf(Coordinator<TKey, TResult>.Props(_runtime, scope));
        _inFlight.Add(requestId, new InFlight(coordinator, scope));
        _live.Add(coordinator, scope);
        _accepted++;
        Telemetry.RequestAdmitted();
        WatchRequester(scope.Requester);
    }

    /// <summary>Each requester is watched once, however many of its requests are in flight.</summary>
    private void WatchRequester(IActorRef requester)
    {
        // Ask's temporary ref and DeadLetters are MinimalActorRefs: they cannot be watched
        // (watching DeadLetters would report it dead at once), and nobody there can die as a client does.
        if (requester is MinimalActorRef) return;
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_requesters, requester, out var watched);
        if (!watched) Context.Watch(requester);
        count++;
    }

    private void UnwatchRequester(IActorRef requester)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_requesters, requester);
        if (Unsafe.IsNullRef(ref count) || --count > 0) return;
        _requesters.Remove(requester);
        Context.Unwatch(requester);
    }

    // ---- coalescing: one shared run per key while it is undecided; each requester joins it, and leaves it alone

    /// <summary>
    /// Joins the run going for an equal key, stretching its deadline to cover this requester's own, or starts a fresh
    /// run when there is none (or it is ending: decided, or its deadline passed). The run's requester is this aggregator.
    /// </summary>
    private void Join(Aggregate<TKey> request, string requestId, long arrival, TimeSpan timeout)
    {
        var key = request.Key;
        var log = _runtime.Log;
        TimeSpan end;
        TimeSpan before = default;
        if (_runsByKey!.TryGetValue(key, out var run)
            && run.Scope.TryExtend(end = Stopwatch.GetElapsedTime(run.Scope.ArrivalTimestamp, arrival) + timeout, out before))
        {
            _coalesced++;
            if (log.IsDebugEnabled) log.Debug("Aggregation {RequestId} joined the shared run {RunId} of an equal key", requestId, run.Scope.RequestId);
        }
        else
        {
            var runId = NewRequestId();
            var scope = new RequestScope<TKey>(runId, key, Self, arrival, timeout, _runtime.Policy.FailureEndsRequest)
            {
                Shared = true,
                // The run's span, in the trace of the request that started it; each request's own span links to it.
                Span = Telemetry.StartRequest(_runtime.Name, runId, key, request.TraceParent, request.TraceState),
            };
            run = new SharedRun(Context.ActorOf(Coordinator<TKey, TResult>.Props(_runtime, scope)), scope);
            _runsByKey[key] = run;
            _runsById!.Add(scope.RequestId, run);
            _live.Add(run.Coordinator, scope);
            if (log.IsDebugEnabled) log.Debug("Aggregation {RequestId} started the shared run {RunId}", requestId, scope.RequestId);
            end = timeout;
        }
        var joiner = new Joiner(requestId, Sender, arrival, timeout, end, run)
        {
            Span = Telemetry.StartRequest(_runtime.Name, requestId, key, request.TraceParent, request.TraceState, run.Scope.Span),
        };
        Telemetry.RequestAdmitted();
        // Only a deadline before the run's needs a timer of its own: when this joiner moved the run's deadline, the ones
        // whose deadline it was need theirs now. A run nobody joins (distinct keys) arms none.
        var runTimeout = run.Scope.Timeout;
        if (runTimeout > before && before > TimeSpan.Zero)
            foreach (var other in run.Joiners)
                if (!other.Timed) StartDeadline(other);
        run.Joiners.Add(joiner);
        _inFlight.Add(requestId, new InFlight(run.Coordinator, run.Scope, joiner));
        _accepted++;
        WatchRequester(joiner.Requester);
        if (end < runTimeout) StartDeadline(joiner);
    }

    private void StartDeadline(Joiner joiner)
    {
        joiner.Timed = true;
        var left = joiner.Timeout - Stopwatch.GetElapsedTime(joiner.Arrival);
        Timers.StartSingleTimer(joiner, new JoinerDeadline(joiner), left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    /// <summary>A run is decided: a request for its key from now on starts a fresh run (nothing is cached).</summary>
    private void RunEnded(RequestScope<TKey> scope)
    {
        if (_runsByKey!.TryGetValue(scope.Key, out var current) && ReferenceEquals(current.Scope, scope)) _runsByKey.Remove(scope.Key);
    }

    /// <summary>The run's one reply, passed on to every requester still in it, each with its own id, elapsed time and budget.</summary>
    private void AnswerJoiners(IAggregateReply reply)
    {
        if (!_runsById!.Remove(reply.RequestId, out var run)) return;
        RunEnded(run.Scope);
        var log = _runtime.Log;
        foreach (var joiner in run.Joiners.ToArray())
        {
            Detach(joiner);
            var answer = ForJoiner(reply, joiner);
            Answered(joiner, answer);
            joiner.Requester.Tell(answer, Self);
            if (log.IsDebugEnabled) log.Debug("Aggregation {RequestId} answered by the shared run {RunId}", joiner.RequestId, run.Scope.RequestId);
        }
    }

    private static IAggregateReply ForJoiner(IAggregateReply reply, Joiner joiner)
    {
        var elapsed = Stopwatch.GetElapsedTime(joiner.Arrival);
        return reply switch
        {
            AggregateSucceeded<TResult> succeeded => succeeded with { RequestId = joiner.RequestId, Elapsed = elapsed },
            AggregateCompleted<TResult> completed => completed with { RequestId = joiner.RequestId, Elapsed = elapsed },
            AggregateFailed { Reason: DeadlineExceeded late } failed =>
                failed with { RequestId = joiner.RequestId, Reason = late with { Timeout = joiner.Timeout }, Elapsed = elapsed },
            AggregateFailed failed => failed with { RequestId = joiner.RequestId, Elapsed = elapsed },
            _ => reply,
        };
    }

    /// <summary>
    /// A requester leaves its run (cancelled, died, or its own deadline passed): answered with <paramref name="failure"/>
    /// if it is still there to hear it. The run is cancelled once nobody is left in it, never before.
    /// </summary>
    private void Leave(Joiner joiner, AggregationFailure? failure, CancellationCause cause)
    {
        Detach(joiner);
        var answer = new AggregateFailed(joiner.RequestId, failure ?? new AggregationCancelled("its requester terminated"))
            { Elapsed = Stopwatch.GetElapsedTime(joiner.Arrival) };
        Answered(joiner, answer);
        if (failure is not null) joiner.Requester.Tell(answer, Self);
        var run = joiner.Run;
        if (run.Joiners.Count > 0 || !_runsById!.ContainsKey(run.Scope.RequestId)) return;
        RunEnded(run.Scope); // going away: an equal key from now on starts a fresh run
        run.Coordinator.Tell(new RunAbandoned(cause), Self);
    }

    /// <summary>A joined request's end, for telemetry: its answer (or, when its requester died, what it would have been).</summary>
    private void Answered(Joiner joiner, IAggregateReply answer)
    {
        Telemetry.EndRequest(joiner.Span, answer, _runtime.Name, _runtime.PolicyName, answer.Elapsed);
        Telemetry.RequestAnswered();
    }

    private void Detach(Joiner joiner)
    {
        joiner.Attached = false;
        joiner.Run.Joiners.Remove(joiner);
        _inFlight.Remove(joiner.RequestId);
        if (joiner.Timed) Timers.Cancel(joiner);
        UnwatchRequester(joiner.Requester);
    }

    protected override void PostStop()
    {
        // Stopped or restarted: the runs' coordinators are stopped with it and cannot reach their requesters; answer them here.
        if (_runsById is null) return;
        foreach (var run in _runsById.Values)
        {
            var reason = _runtime.StopCause(run.Coordinator).Description;
            foreach (var joiner in run.Joiners)
            {
                var answer = new AggregateFailed(joiner.RequestId, new AggregationCancelled(reason)) { Elapsed = Stopwatch.GetElapsedTime(joiner.Arrival) };
                Answered(joiner, answer);
                joiner.Requester.Tell(answer, Self);
            }
        }
    }

    /// <summary>Only the request's own requester may cancel it; nobody else can interfere with its scope.</summary>
    private void RouteCancel(CancelAggregate cancel)
    {
        var sender = Sender;
        if (cancel.RequestId is null || !_inFlight.TryGetValue(cancel.RequestId, out var request))
        {
            if (_runtime.Log.IsDebugEnabled)
                _runtime.Log.Debug("CancelAggregate for {RequestId} ignored: no such request in flight", cancel.RequestId);
            return;
        }
        if (sender.IsNobody() || !sender.Equals(request.Requester))
        {
            if (_runtime.Log.IsDebugEnabled)
                _runtime.Log.Debug("CancelAggregate for {RequestId} from {Sender} ignored: only its requester may cancel it", cancel.RequestId, sender);
            return;
        }
        // A requester of a shared run leaves it, answered at once; the run goes on for the others.
        if (request.Joiner is { } joiner) Leave(joiner, new AggregationCancelled(AggregationCancelled.ByRequester), CancellationCause.Caller);
        else request.Coordinator.Tell(cancel, sender);
    }

    /// <summary>The request of <paramref name="scope"/> is decided, or its coordinator is gone: its slot and id are free.</summary>
    private void Release(string requestId, object scope)
    {
        if (!_inFlight.TryGetValue(requestId, out var request) || !ReferenceEquals(request.Scope, scope)) return;
        _inFlight.Remove(requestId);
        UnwatchRequester(request.Scope.Requester);
    }

    /// <summary>A coordinator is gone (from the strategy's HandleChildTerminated): normally long decided; if not, it was stopped undecided.</summary>
    private void CoordinatorGone(IActorRef coordinator)
    {
        if (_crashes > 0 && _runtime.Crashes.TryRemove(coordinator, out _)) _crashes--;
        if (_live.Remove(coordinator, out var scope)) Release(scope.RequestId, scope);
    }

    private void Reject(string requestId, string reason, bool busy, IAggregateRequest? request = null)
    {
        _rejected++;
        var answer = new AggregateFailed(requestId, new RequestRejected(reason));
        if (Telemetry.Source.HasListeners() || Telemetry.RequestDuration.Enabled)
            Telemetry.EndRequest(Telemetry.StartRequest(_runtime.Name, requestId, request?.KeyObject, request?.TraceParent, request?.TraceState),
                answer, _runtime.Name, _runtime.PolicyName, answer.Elapsed);
        Sender.Tell(answer, Self);
        _rejections.Rejected(requestId, reason, busy, _runtime, Timers);
    }

    /// <summary>Not guessable: a request id is the only handle on a request, and must not be derivable from another one.</summary>
    private static string NewRequestId() => Guid.NewGuid().ToString("N");

    /// <summary>A coordinator that throws is a bug in this library, not in user code: stop it (its PostStop still replies) and log it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new CoordinatorStrategy(this);

    private sealed class CoordinatorStrategy(AggregatorActor<TKey, TResult> aggregator) : OneForOneStrategy(0, 0, _ => Directive.Stop, loggingEnabled: true)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children)
        {
            aggregator._runtime.Crashes[child] = cause;
            aggregator._crashes++;
            base.ProcessFailure(context, restart, child, cause, stats, children);
        }

        public override void HandleChildTerminated(IActorContext actorContext, IActorRef child, IEnumerable<IInternalActorRef> children) =>
            aggregator.CoordinatorGone(child);
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // Default PreRestart stops the children; tell their PostStop why, so each requester hears it.
        _runtime.StopReason = $"the aggregator restarted after {reason.GetType().Name}: {Errors.MessageOf(reason)}";
        base.PreRestart(reason, message);
    }

    /// <summary>A request in flight: its coordinator and scope (a shared run's, for a request that joined one).</summary>
    private readonly record struct InFlight(IActorRef Coordinator, RequestScope<TKey> Scope, Joiner? Joiner = null)
    {
        public IActorRef Requester => Joiner?.Requester ?? Scope.Requester;
    }

    /// <summary>One coalesced run: its coordinator and scope, and the requests in it now.</summary>
    private sealed class SharedRun(IActorRef coordinator, RequestScope<TKey> scope)
    {
        public IActorRef Coordinator { get; } = coordinator;
        public RequestScope<TKey> Scope { get; } = scope;
        public HashSet<Joiner> Joiners { get; } = new(ReferenceEqualityComparer.Instance);
    }

    /// <summary>One request in a shared run, with its own id, requester, arrival and budget.</summary>
    private sealed class Joiner(string requestId, IActorRef requester, long arrival, TimeSpan timeout, TimeSpan end, SharedRun run)
    {
        public string RequestId { get; } = requestId;
        public IActorRef Requester { get; } = requester;
        public long Arrival { get; } = arrival;
        public TimeSpan Timeout { get; } = timeout;

        /// <summary>Its deadline, from the run's arrival: the run's deadline is the latest of its joiners'.</summary>
        public TimeSpan End { get; } = end;
        public SharedRun Run { get; } = run;
        public bool Attached { get; set; } = true;

        /// <summary>Its own span, linked to the run's, while someone listens.</summary>
        public Activity? Span { get; init; }

        /// <summary>Its own deadline timer is armed (only while that deadline is before the run's).</summary>
        public bool Timed { get; set; }
    }

    /// <summary>A joiner's own deadline; it answers the joiner only when it comes before the run's (the latest of its joiners').</summary>
    private sealed record JoinerDeadline(Joiner Joiner) : IDeadLetterSuppression, INotInfluenceReceiveTimeout, INoSerializationVerificationNeeded;

    /// <summary>
    /// Rejections are logged in full at Warning once per <c>rejection-log-interval</c>; the others in that interval are
    /// logged at Debug and summed up in one Warning when it ends. Under overload every busy rejection would otherwise be a
    /// Warning line of its own.
    /// </summary>
    private struct RejectionLog
    {
        private bool _open;
        private long _busy;
        private long _invalid;

        public void Rejected(string requestId, string reason, bool busy, AggregatorRuntime runtime, ITimerScheduler timers)
        {
            var log = runtime.Log;
            if (!_open)
            {
                _open = true;
                log.Warning("Aggregation {RequestId} {Outcome}: {Reason}", requestId, "rejected", reason);
                timers.StartSingleTimer(RejectionSummaryTick.Instance, RejectionSummaryTick.Instance, runtime.Settings.RejectionLogInterval);
                return;
            }
            if (busy) _busy++;
            else _invalid++;
            if (log.IsDebugEnabled) log.Debug("Aggregation {RequestId} {Outcome}: {Reason}", requestId, "rejected", reason);
        }

        public void Summarise(AggregatorRuntime runtime, ITimerScheduler timers, ActorPath aggregator)
        {
            if (_busy + _invalid == 0)
            {
                _open = false; // quiet again: the next rejection is logged in full
                return;
            }
            var interval = runtime.Settings.RejectionLogInterval;
            runtime.Log.Warning("Aggregator {Aggregator} rejected {Count} more requests in the last {IntervalMs} ms: {Busy} busy (max-in-flight {MaxInFlight}), {Invalid} invalid",
                aggregator, _busy + _invalid, interval.TotalMilliseconds, _busy, runtime.Settings.MaxInFlight, _invalid);
            _busy = _invalid = 0;
            timers.StartSingleTimer(RejectionSummaryTick.Instance, RejectionSummaryTick.Instance, interval);
        }
    }

    private sealed class RejectionSummaryTick : IDeadLetterSuppression, INotInfluenceReceiveTimeout, INoSerializationVerificationNeeded
    {
        public static readonly RejectionSummaryTick Instance = new();
    }

    internal sealed class Producer(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings, FaultInjection? faults) : IIndirectActorProducer
    {
        public Type ActorType => typeof(AggregatorActor<TKey, TResult>);

        public ActorBase Produce() => new AggregatorActor<TKey, TResult>(definition, settings, faults);

        public void Release(ActorBase actor) { }
    }
}
