using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// An aggregator front: the requester's side of every request it sends on. One request's life here: admitted (its id and
/// budget fixed, its requester watched, its deadline timer started), sent to an aggregator with the budget less the
/// margin, maybe sent to another when the first is busy, and then answered exactly once, by whichever comes first of the
/// aggregator's reply, the front's deadline, the node's failure or the front's stop. Whatever comes after is dropped and
/// counted. Which aggregators there are is the business of a <see cref="FrontRoutees"/>: a pool of children, a fixed list,
/// or the members of a cluster.
/// </summary>
internal sealed class FrontActor : UntypedActor, IWithTimers
{
    private readonly Setup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AggregatorFrontSettings _settings;
    private readonly TimeSpan _defaultTimeout;
    // Requests sent on and not yet answered, by id.
    private readonly Dictionary<string, Routed> _inFlight = new(StringComparer.Ordinal);
    // Every aggregator the front watches, and whether it may get new requests now (not unreachable, not leaving).
    private readonly Dictionary<IActorRef, bool> _aggregators = new();
    private readonly List<IActorRef> _available = [];
    // Each requester is watched once, however many of its requests are in flight.
    private readonly Dictionary<IActorRef, int> _requesters = new();
    private int _next;
    private long _forwarded, _busyRetries, _nodeFailures, _lateReplies;
    private (IActorRef ReplyTo, bool Waiting) _drain;

    private FrontActor(Setup setup)
    {
        _setup = setup;
        _settings = setup.FrontSettings ?? AggregatorFrontSettings.Create(Context.System);
        _defaultTimeout = setup.DefinitionTimeout ?? (setup.AggregatorSettings ?? AggregationSettings.Create(Context.System)).DefaultTimeout;
    }

    public static Props Props(Setup setup) => Akka.Actor.Props.CreateBy(new Producer(setup));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>What a front is made of.</summary>
    /// <param name="DefinitionTimeout">The definition's deadline, if known: the budget of a request without one.</param>
    /// <param name="AggregatorSettings">The aggregators' settings, if known: their default timeout is the next fallback.</param>
    /// <param name="FrontSettings">The front's settings; null reads them from the system.</param>
    /// <param name="Fetchers">The definition's fetcher names, if known: pending in the front's own DeadlineExceeded.</param>
    /// <param name="Routees">Where the aggregators come from.</param>
    internal sealed record Setup(TimeSpan? DefinitionTimeout, AggregationSettings? AggregatorSettings, AggregatorFrontSettings? FrontSettings,
        IReadOnlyList<string> Fetchers, FrontRoutees Routees);

    internal AggregatorFrontSettings Settings => _settings;
    internal ILoggingAdapter Log => _log;

    protected override void PreStart() => _setup.Routees.Start(this, Context);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IAggregateRequest request:
                Admit(request);
                break;
            case IAggregateReply reply:
                Replied(reply);
                break;
            case CancelAggregate cancel:
                RouteCancel(cancel);
                break;
            case FrontDeadline deadline:
                if (_inFlight.TryGetValue(deadline.RequestId, out var late) && ReferenceEquals(late, deadline.Request))
                {
                    // No answer in the whole budget: the reply was lost, or the node is slow to be given up. The aggregator
                    // may still run it: cancel it there, best effort.
                    late.Target.Tell(new CancelAggregate(late.RequestId), Self);
                    Answer(late, new DeadlineExceeded(late.Budget, _setup.Fetchers));
                }
                break;
            case Terminated terminated:
                OnTerminated(terminated);
                break;
            case GetFrontStats:
                Sender.Tell(new FrontStats(_inFlight.Count, _available.Count, _forwarded, _busyRetries, _nodeFailures, _lateReplies));
                break;
            case GetAggregatorStats or GetLeakReport:
                Gather(message);
                break;
            case Drain drain:
                _drain = (Sender, true);
                Timers.StartSingleTimer(DrainTimeout.Instance, DrainTimeout.Instance, drain.Timeout);
                CheckDrained();
                break;
            case DrainTimeout:
                if (_drain.Waiting) _drain.ReplyTo.Tell(new Drained(false));
                _drain.Waiting = false;
                break;
            case Serialization.UnreadableMessage:
                break; // logged at Warning by the serializer
            default:
                if (!_setup.Routees.Handle(this, Context, message))
                {
                    _log.Warning("Aggregator front received an unknown message of type {MessageType} from {Sender}; ignored",
                        message?.GetType().FullName ?? "null", Sender);
                    Unhandled(message);
                }
                break;
        }
    }

    private void Admit(IAggregateRequest request)
    {
        var arrival = Stopwatch.GetTimestamp();
        var requestId = request.RequestId ?? Guid.NewGuid().ToString("N");
        var budget = request.Timeout ?? _defaultTimeout;
        // The checks the aggregator makes too, in the same words, so that a front and an aggregator answer bad input alike;
        // the key's own checks are the aggregator's.
        if (request.Timeout is { } timeout && AggregationSettings.InvalidTimeout(timeout) is { } invalid) Reject(requestId, $"the timeout {invalid}");
        else if (string.IsNullOrWhiteSpace(requestId)) Reject(requestId, "the request id must not be empty");
        else if (_inFlight.ContainsKey(requestId)) Reject(requestId, $"a request with id '{requestId}' is already in flight");
        else if (_drain.ReplyTo is not null) Reject(requestId, RequestRejected.Leaving);
        else if (_available.Count == 0) Reject(requestId, "no aggregator is available");
        else
        {
            var routed = new Routed(requestId, request, Sender, arrival, budget);
            _inFlight.Add(requestId, routed);
            if (routed.Requester is not MinimalActorRef)
            {
                ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_requesters, routed.Requester, out var watched);
                if (!watched) Context.Watch(routed.Requester);
                count++;
            }
            Timers.StartSingleTimer(requestId, new FrontDeadline(requestId, routed), budget);
            SendOn(routed, Pick(routed)!); // one is available, and nothing was tried yet
        }
    }

    private void SendOn(Routed routed, IActorRef aggregator)
    {
        routed.Target = aggregator;
        var budget = _settings.ForAggregator(routed.Remaining);
        if (budget <= TimeSpan.Zero)
        {
            // Spent before it could be sent on (a stalled front): the deadline, now, rather than a budget nobody accepts.
            Answer(routed, new DeadlineExceeded(routed.Budget, _setup.Fetchers));
            return;
        }
        _forwarded++;
        aggregator.Tell(routed.Request.Routed(routed.RequestId, budget), Self);
    }

    /// <summary>The next available aggregator in turn that this request has not tried yet, or null.</summary>
    private IActorRef? Pick(Routed routed)
    {
        for (var i = 0; i < _available.Count; i++)
        {
            var candidate = _available[_next++ % _available.Count];
            if (routed.Tried is null || !routed.Tried.Contains(candidate)) return candidate;
        }
        return null;
    }

    private void Replied(IAggregateReply reply)
    {
        if (!_inFlight.TryGetValue(reply.RequestId, out var routed) || !Sender.Equals(routed.Target))
        {
            // Answered already (node failure, deadline, stop) or never ours: never delivered twice.
            _lateReplies++;
            if (_log.IsDebugEnabled) _log.Debug("Aggregator front dropped a late reply for {RequestId} from {Sender}", reply.RequestId, Sender);
            return;
        }
        if (reply is AggregateFailed { Reason: RequestRejected { Reason: RequestRejected.Busy or RequestRejected.Leaving } } && TryElsewhere(routed)) return;
        // The aggregator ran on the budget less the margin; the requester asked for its own budget, and reads that back.
        if (reply is AggregateFailed { Reason: DeadlineExceeded exceeded } failed && exceeded.Timeout != routed.Budget)
            reply = failed with { Reason = exceeded with { Timeout = routed.Budget } };
        Answer(routed, reply);
    }

    /// <summary>The aggregator was busy (or its node leaving): another one, if there is one left to try and the budget still allows a useful try.</summary>
    private bool TryElsewhere(Routed routed)
    {
        if (routed.Remaining < MinimumTry) return false;
        (routed.Tried ??= []).Add(routed.Target);
        if (Pick(routed) is not { } next) return false;
        _busyRetries++;
        SendOn(routed, next);
        return true;
    }

    private static readonly TimeSpan MinimumTry = TimeSpan.FromMilliseconds(5);

    /// <summary>Only the request's own requester may cancel it, as on an aggregator; the cancel goes where the request went.</summary>
    private void RouteCancel(CancelAggregate cancel)
    {
        if (cancel.RequestId is null || !_inFlight.TryGetValue(cancel.RequestId, out var routed) || !Sender.Equals(routed.Requester))
        {
            if (_log.IsDebugEnabled) _log.Debug("CancelAggregate for {RequestId} from {Sender} ignored: not a request of that requester in flight", cancel.RequestId, Sender);
            return;
        }
        routed.Target.Tell(cancel, Self); // its confirmation comes back as the reply; the deadline and node failure still hold
    }

    private void OnTerminated(Terminated terminated)
    {
        var actor = terminated.ActorRef;
        if (_requesters.Remove(actor))
        {
            // Nobody left to answer: cancel its requests where they run, like an aggregator noticing its requester died.
            foreach (var routed in _inFlight.Values.Where(r => r.Requester.Equals(actor)).ToArray())
            {
                routed.Target.Tell(new CancelAggregate(routed.RequestId), Self);
                Forget(routed);
            }
        }
        if (!_aggregators.Remove(actor)) return;
        _available.Remove(actor);
        if (terminated.AddressTerminated) NodeLost(actor.Path.Address, "the node is gone (Akka.Remote gave it up)");
        else FailRequestsOn(a => a.Equals(actor), r => new AggregationCancelled($"the aggregator {actor.Path} stopped"));
    }

    /// <summary>Answers the requester (the only place that does), forgets the request, and ends a drain that waited for it.</summary>
    private void Answer(Routed routed, IAggregateReply reply)
    {
        routed.Requester.Tell(reply, Self);
        Forget(routed);
    }

    private void Answer(Routed routed, AggregationFailure failure) =>
        Answer(routed, new AggregateFailed(routed.RequestId, failure) { Elapsed = Stopwatch.GetElapsedTime(routed.Arrival) });

    private void Forget(Routed routed)
    {
        _inFlight.Remove(routed.RequestId);
        Timers.Cancel(routed.RequestId);
        ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_requesters, routed.Requester);
        if (!Unsafe.IsNullRef(ref count) && --count == 0)
        {
            _requesters.Remove(routed.Requester);
            Context.Unwatch(routed.Requester);
        }
        CheckDrained();
    }

    private void Reject(string requestId, string reason)
    {
        if (_log.IsDebugEnabled) _log.Debug("Aggregation {RequestId} {Outcome} by the front: {Reason}", requestId, "rejected", reason);
        Sender.Tell(new AggregateFailed(requestId, new RequestRejected(reason)), Self);
    }

    private void CheckDrained()
    {
        if (!_drain.Waiting || _inFlight.Count > 0) return;
        _drain.Waiting = false;
        Timers.Cancel(DrainTimeout.Instance);
        _drain.ReplyTo.Tell(new Drained(true));
    }

    // ---- the aggregators: what a FrontRoutees tells the front

    /// <summary>A new aggregator, watched from now on, available for new requests.</summary>
    internal void AddAggregator(IActorRef aggregator)
    {
        if (_aggregators.TryGetValue(aggregator, out var available))
        {
            if (!available) SetAvailable(aggregator, true);
            return;
        }
        Context.Watch(aggregator);
        _aggregators.Add(aggregator, true);
        _available.Add(aggregator);
    }

    /// <summary>Every aggregator on <paramref name="node"/> gets no new request (leaving, or unreachable); its requests go on.</summary>
    internal void Suspend(Address node)
    {
        foreach (var aggregator in _aggregators.Keys.Where(a => a.Path.Address.Equals(node)).ToArray()) SetAvailable(aggregator, false);
    }

    /// <summary>Every aggregator on <paramref name="node"/> gets new requests again.</summary>
    internal void Resume(Address node)
    {
        foreach (var aggregator in _aggregators.Keys.Where(a => a.Path.Address.Equals(node)).ToArray()) SetAvailable(aggregator, true);
    }

    /// <summary>
    /// <paramref name="node"/> crashed, left or is unreachable: its aggregators get no new request, and every request running
    /// there is answered <see cref="NodeFailed"/> now (and cancelled there, in case the node is only unreachable).
    /// </summary>
    internal void NodeLost(Address node, string reason)
    {
        Suspend(node);
        FailRequestsOn(a => a.Path.Address.Equals(node), r =>
        {
            r.Target.Tell(new CancelAggregate(r.RequestId), Self);
            _nodeFailures++;
            return new NodeFailed(node.ToString(), reason);
        });
    }

    /// <summary>Every aggregator on <paramref name="node"/> is forgotten (the member was removed); they are no longer watched.</summary>
    internal void ForgetNode(Address node)
    {
        foreach (var aggregator in _aggregators.Keys.Where(a => a.Path.Address.Equals(node)).ToArray())
        {
            _aggregators.Remove(aggregator);
            _available.Remove(aggregator);
            Context.Unwatch(aggregator);
        }
    }

    private void SetAvailable(IActorRef aggregator, bool available)
    {
        if (_aggregators[aggregator] == available) return;
        _aggregators[aggregator] = available;
        if (available) _available.Add(aggregator);
        else _available.Remove(aggregator);
    }

    private void FailRequestsOn(Func<IActorRef, bool> target, Func<Routed, AggregationFailure> failure)
    {
        foreach (var routed in _inFlight.Values.Where(r => target(r.Target)).ToArray()) Answer(routed, failure(routed));
    }

    /// <summary>Stats and leak reports summed over every aggregator behind the front, with the front's own requests in flight.</summary>
    private void Gather(object question)
    {
        var replyTo = Sender;
        var aggregators = _aggregators.Keys.ToArray();
        var ours = _inFlight.Keys.ToArray();
        var timeout = TimeSpan.FromSeconds(5);
        async Task<object> Sum()
        {
            var answers = await Task.WhenAll(aggregators.Select(a => a.Ask<object>(question, timeout))).ConfigureAwait(false);
            if (question is GetAggregatorStats)
            {
                var stats = answers.Cast<AggregatorStats>().ToArray();
                return new AggregatorStats(Math.Max(ours.Length, stats.Sum(s => s.InFlight)), stats.Sum(s => s.LiveFetchers),
                    stats.Sum(s => s.LingeringFetches), stats.Sum(s => s.AbandonedFetches), stats.Sum(s => s.Accepted), stats.Sum(s => s.Rejected))
                    { Coalesced = stats.Sum(s => s.Coalesced) };
            }
            var reports = answers.Cast<LeakReport>().ToArray();
            var inFlight = reports.SelectMany(r => r.InFlight).ToList();
            var known = inFlight.Select(r => r.RequestId).ToHashSet(StringComparer.Ordinal);
            inFlight.AddRange(ours.Where(id => !known.Contains(id)).Select(id => new InFlightRequest(id, [])));
            return new LeakReport(inFlight, reports.Sum(r => r.LiveFetchers), reports.SelectMany(r => r.LingeringFetches).ToArray());
        }
        Sum().PipeTo(replyTo, Self, failure: e => new Status.Failure(e));
    }

    protected override void PostStop()
    {
        // Every request not yet answered is answered now, once: the aggregators behind may be gone or far away.
        foreach (var routed in _inFlight.Values.ToArray())
        {
            routed.Target.Tell(new CancelAggregate(routed.RequestId), Self);
            routed.Requester.Tell(new AggregateFailed(routed.RequestId, new AggregationCancelled("the aggregator front stopped"))
                { Elapsed = Stopwatch.GetElapsedTime(routed.Arrival) }, Self);
        }
        _inFlight.Clear();
        if (_drain.Waiting) _drain.ReplyTo.Tell(new Drained(false));
        _setup.Routees.Stop(this, Context);
    }

    /// <summary>A request the front has sent on: to whom, since when, with what budget.</summary>
    private sealed class Routed(string requestId, IAggregateRequest request, IActorRef requester, long arrival, TimeSpan budget)
    {
        public string RequestId { get; } = requestId;
        public IAggregateRequest Request { get; } = request;
        public IActorRef Requester { get; } = requester;
        public long Arrival { get; } = arrival;
        public TimeSpan Budget { get; } = budget;
        public TimeSpan Remaining => Budget - Stopwatch.GetElapsedTime(Arrival);
        public IActorRef Target { get; set; } = ActorRefs.Nobody;
        public HashSet<IActorRef>? Tried { get; set; }
    }

    private sealed record FrontDeadline(string RequestId, Routed Request) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    internal sealed record Drain(TimeSpan Timeout) : INoSerializationVerificationNeeded;

    internal sealed record Drained(bool Complete) : INoSerializationVerificationNeeded;

    private sealed class DrainTimeout : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly DrainTimeout Instance = new();
    }

    private sealed class Producer(Setup setup) : IIndirectActorProducer
    {
        public Type ActorType => typeof(FrontActor);

        public ActorBase Produce() => new FrontActor(setup);

        public void Release(ActorBase actor) { }
    }
}
