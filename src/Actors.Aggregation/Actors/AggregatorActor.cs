using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// The front door: a long-lived actor that runs an <see cref="AggregationDefinition{TKey, TResult}"/> for every
/// <see cref="Aggregate{TKey}"/> it receives, each in its own coordinator child. Send it requests from actors (Tell, Ask)
/// or call <see cref="AggregatorRefExtensions.AggregateAsync{TKey, TResult}"/> from plain code.
/// </summary>
public static class AggregatorActor
{
    /// <summary>Props of an aggregator running <paramref name="definition"/>.</summary>
    /// <param name="definition">The aggregation to run.</param>
    /// <param name="settings">Settings; null reads <c>actors.aggregation</c> from the actor system's configuration.</param>
    public static Props Props<TKey, TResult>(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Akka.Actor.Props.CreateBy(new AggregatorActor<TKey, TResult>.Producer(definition, settings));
    }
}

/// <summary>
/// Validates and admits requests, starts a coordinator per request, routes <see cref="CancelAggregate"/>, answers stats.
/// It never runs user code itself, so a fetch or a combine that throws cannot take it down.
/// </summary>
internal sealed class AggregatorActor<TKey, TResult> : UntypedActor
{
    private readonly AggregatorRuntime<TKey, TResult> _runtime;
    private readonly Dictionary<string, InFlight> _inFlight = new(StringComparer.Ordinal);
    // Each requester is watched once, however many of its requests are in flight: their count, to unwatch after the last.
    private readonly Dictionary<IActorRef, int> _requesters = new();
    private readonly string _idPrefix = Guid.NewGuid().ToString("N")[..8];
    private long _sequence;
    private long _accepted;
    private long _rejected;

    public AggregatorActor(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings)
    {
        _runtime = new AggregatorRuntime<TKey, TResult>(definition, settings ?? AggregationSettings.Create(Context.System),
            Context.GetLogger(), Context.System);
    }

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
            case RequestEnded ended:
                if (_inFlight.Remove(ended.RequestId, out var entry)) Release(entry.Requester);
                break;
            case Terminated terminated:
                // Only requesters are watched. Their requests have nobody left to answer: cancel them, like a server
                // noticing its client went away.
                if (!_requesters.Remove(terminated.ActorRef)) break;
                foreach (var request in _inFlight.Values)
                    if (request.Requester.Equals(terminated.ActorRef)) request.Coordinator.Tell(RequesterTerminated.Instance, Self);
                break;
            case CancelAggregate cancel:
                if (cancel.RequestId is not null && _inFlight.TryGetValue(cancel.RequestId, out var inFlight)) inFlight.Coordinator.Forward(cancel);
                else if (_runtime.Log.IsDebugEnabled)
                    _runtime.Log.Debug("CancelAggregate for {RequestId} ignored: no such request in flight", cancel.RequestId);
                break;
            case GetAggregatorStats:
                Sender.Tell(new AggregatorStats(_inFlight.Count, _runtime.Counters.LiveFetchers, _runtime.Counters.Lingering,
                    _runtime.Counters.Abandoned, _accepted, _rejected));
                break;
            case GetLeakReport:
                Sender.Tell(LeakReporting.Build(_inFlight.Select(r => (r.Key, r.Value.Coordinator)).ToArray(), _runtime), Self);
                break;
            case IAggregateRequest wrongKey:
                Reject(wrongKey.RequestId ?? NextRequestId(),
                    $"the key is a {wrongKey.KeyType.Name}, but this aggregator's key is a {typeof(TKey).Name}");
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
        var requestId = request.RequestId ?? NextRequestId();
        if (request.Key is null)
        {
            Reject(requestId, "the key must not be null");
            return;
        }
        if (request.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            Reject(requestId, $"the timeout must be positive, but was {timeout}");
            return;
        }
        if (string.IsNullOrWhiteSpace(requestId))
        {
            Reject(requestId, "the request id must not be empty");
            return;
        }
        if (_inFlight.ContainsKey(requestId))
        {
            Reject(requestId, $"a request with id '{requestId}' is already in flight");
            return;
        }
        if (_runtime.Settings.MaxInFlight > 0 && _inFlight.Count >= _runtime.Settings.MaxInFlight)
        {
            Reject(requestId, RequestRejected.Busy);
            return;
        }

        var info = new RequestInfo<TKey>(requestId, request.Key, Sender, arrival,
            request.Timeout ?? _runtime.Definition.Timeout ?? _runtime.Settings.DefaultTimeout);
        _inFlight.Add(requestId, new InFlight(Context.ActorOf(Coordinator<TKey, TResult>.Props(_runtime, info)), info.Requester));
        _accepted++;
        // Ask's temporary ref and DeadLetters are MinimalActorRefs: they cannot be watched
        // (watching DeadLetters would report it dead at once), and nobody there can die as a client does.
        if (info.Requester is not MinimalActorRef)
        {
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_requesters, info.Requester, out var watched);
            if (!watched) Context.Watch(info.Requester);
            count++;
        }
    }

    private void Release(IActorRef requester)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_requesters, requester);
        if (Unsafe.IsNullRef(ref count) || --count > 0) return;
        _requesters.Remove(requester);
        Context.Unwatch(requester);
    }

    private void Reject(string requestId, string reason)
    {
        _rejected++;
        Sender.Tell(new AggregateFailed(requestId, new RequestRejected(reason)), Self);
        _runtime.Log.Warning("Aggregation {RequestId} {Outcome}: {Reason}", requestId, "rejected", reason);
    }

    private string NextRequestId() => $"{_idPrefix}-{++_sequence}";

    /// <summary>A coordinator that throws is a bug in this library, not in user code: stop it (its PostStop still replies) and log it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new CoordinatorStrategy(_runtime);

    private sealed class CoordinatorStrategy(AggregatorRuntime runtime) : OneForOneStrategy(0, 0, _ => Directive.Stop, loggingEnabled: true)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
            Akka.Actor.Internal.ChildRestartStats stats, IReadOnlyCollection<Akka.Actor.Internal.ChildRestartStats> children)
        {
            runtime.Crashes[child] = cause;
            base.ProcessFailure(context, restart, child, cause, stats, children);
        }
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // Default PreRestart stops the children; tell their PostStop why, so each requester hears it.
        _runtime.StopReason = $"the aggregator restarted after {reason.GetType().Name}: {reason.Message}";
        base.PreRestart(reason, message);
    }

    private readonly record struct InFlight(IActorRef Coordinator, IActorRef Requester);

    internal sealed class Producer(AggregationDefinition<TKey, TResult> definition, AggregationSettings? settings) : IIndirectActorProducer
    {
        public Type ActorType => typeof(AggregatorActor<TKey, TResult>);

        public ActorBase Produce() => new AggregatorActor<TKey, TResult>(definition, settings);

        public void Release(ActorBase actor) { }
    }
}
