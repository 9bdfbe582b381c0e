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

    private AggregatorActor(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings, FaultInjection? faults)
    {
        _runtime = new AggregatorRuntime<TKey, TResult>(definition, settings ?? AggregationSettings.Create(Context.System),
            Context.GetLogger(), Context.System, faults);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        // The first use of Akka's scheduler starts its thread, and every thread scheduling meanwhile blocks until it runs:
        // a burst of lingering fetches on a cold system would stall the thread pool. Start it here, once.
        _runtime.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), static () => { });
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
            case CancelAggregate cancel:
                RouteCancel(cancel);
                break;
            case Terminated terminated:
                // Only requesters are watched. Their requests have nobody left to answer: cancel them, like a server
                // noticing its client went away.
                if (!_requesters.Remove(terminated.ActorRef)) break;
                foreach (var request in _inFlight.Values)
                    if (request.Scope.Requester.Equals(terminated.ActorRef)) request.Coordinator.Tell(RequesterTerminated.Instance, Self);
                break;
            case GetAggregatorStats:
                Sender.Tell(new AggregatorStats(_inFlight.Count, _runtime.Counters.LiveFetchers, _runtime.Counters.Lingering,
                    _runtime.Counters.Abandoned, _accepted, _rejected));
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
                    $"the key is a {wrongKey.KeyType.Name}, but this aggregator's key is a {typeof(TKey).Name}", busy: false);
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
            Reject(requestId, "the key must not be null", busy: false);
            return;
        }
        if (request.Timeout is { } timeout && AggregationSettings.InvalidTimeout(timeout) is { } invalid)
        {
            Reject(requestId, $"the timeout {invalid}", busy: false);
            return;
        }
        if (string.IsNullOrWhiteSpace(requestId))
        {
            Reject(requestId, "the request id must not be empty", busy: false);
            return;
        }
        if (_inFlight.ContainsKey(requestId))
        {
            Reject(requestId, $"a request with id '{requestId}' is already in flight", busy: false);
            return;
        }
        if (settings.MaxInFlight > 0 && _inFlight.Count >= settings.MaxInFlight)
        {
            Reject(requestId, RequestRejected.Busy, busy: true);
            return;
        }

        var scope = new RequestScope<TKey>(requestId, request.Key, Sender, arrival,
            request.Timeout ?? _runtime.Definition.Timeout ?? settings.DefaultTimeout, _runtime.Policy.FailureEndsRequest);
        var coordinator = Context.ActorOf(Coordinator<TKey, TResult>.Props(_runtime, scope));
        _inFlight.Add(requestId, new InFlight(coordinator, scope));
        _live.Add(coordinator, scope);
        _accepted++;
        // Ask's temporary ref and DeadLetters are MinimalActorRefs: they cannot be watched
        // (watching DeadLetters would report it dead at once), and nobody there can die as a client does.
        if (scope.Requester is not MinimalActorRef)
        {
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_requesters, scope.Requester, out var watched);
            if (!watched) Context.Watch(scope.Requester);
            count++;
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
        if (sender.IsNobody() || !sender.Equals(request.Scope.Requester))
        {
            if (_runtime.Log.IsDebugEnabled)
                _runtime.Log.Debug("CancelAggregate for {RequestId} from {Sender} ignored: only its requester may cancel it", cancel.RequestId, sender);
            return;
        }
        request.Coordinator.Tell(cancel, sender);
    }

    /// <summary>The request of <paramref name="scope"/> is decided, or its coordinator is gone: its slot and id are free.</summary>
    private void Release(string requestId, object scope)
    {
        if (!_inFlight.TryGetValue(requestId, out var request) || !ReferenceEquals(request.Scope, scope)) return;
        _inFlight.Remove(requestId);
        var requester = request.Scope.Requester;
        ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_requesters, requester);
        if (Unsafe.IsNullRef(ref count) || --count > 0) return;
        _requesters.Remove(requester);
        Context.Unwatch(requester);
    }

    /// <summary>A coordinator is gone (from the strategy's HandleChildTerminated): normally long decided; if not, it was stopped undecided.</summary>
    private void CoordinatorGone(IActorRef coordinator)
    {
        if (_crashes > 0 && _runtime.Crashes.TryRemove(coordinator, out _)) _crashes--;
        if (_live.Remove(coordinator, out var scope)) Release(scope.RequestId, scope);
    }

    private void Reject(string requestId, string reason, bool busy)
    {
        _rejected++;
        Sender.Tell(new AggregateFailed(requestId, new RequestRejected(reason)), Self);
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

    private readonly record struct InFlight(IActorRef Coordinator, RequestScope<TKey> Scope);

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
