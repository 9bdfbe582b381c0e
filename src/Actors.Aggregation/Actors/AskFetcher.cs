using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// A fetcher that is an actor conversation: it sends the step's message to the target, watches the target, and maps the
/// first reply. A <see cref="Status.Failure"/>, a reply of the wrong type, or the target's death fails it; the request's
/// deadline and stop bound it like any other fetcher. The target answers a <see cref="ReplySink"/>, not this actor, so a
/// reply (or a death notice) that comes after the request was decided is dropped rather than sent to a stopped actor.
/// </summary>
internal sealed class AskFetcher<TKey, TReply, TPart> : UntypedActor
{
    private readonly AskFetchStep<TKey, TReply, TPart> _step;
    private readonly FetcherSetup<TKey> _setup;
    private ReplySink? _sink;
    private IActorRef? _target;
    private bool _done;
    private bool _cleanedUp;
    private Address? _watchedNode;
    private Activity? _span; // from the send to the reply, while someone traces

    private AskFetcher(AskFetchStep<TKey, TReply, TPart> step, FetcherSetup<TKey> setup)
    {
        _step = step;
        _setup = setup;
    }

    public static Props Props(AskFetchStep<TKey, TReply, TPart> step, FetcherSetup<TKey> setup) =>
        RequestMailbox.Props(new Producer(step, setup));

    protected override void PreStart()
    {
        _setup.Runtime.Counters.FetcherStarted();
        try
        {
            _sink = new ReplySink(Self, ((IInternalActorRef)Self).Provider, _setup.Scope);
            if (_step.Target is { } target) Converse(target);
            else Context.ActorSelection(_step.Path!).Tell(new Identify(_step.Path), _sink);
        }
        catch
        {
            // Akka runs no PostStop for an actor whose PreStart threw.
            CleanUp();
            throw;
        }
    }

    private void Converse(IActorRef target)
    {
        _target = target;
        object message;
        try
        {
            message = _step.Message(_setup.Scope.Key) ?? throw new InvalidOperationException($"Fetcher '{_step.Name}' built a null message.");
        }
        catch (Exception e)
        {
            throw Failed(e);
        }
        _sink!.Watch(target);
        if (_step.FailOnUnreachable && !target.Path.Address.Equals(((IInternalActorRef)Self).Provider.DefaultAddress)) WatchNode(target);
        var previous = Activity.Current;
        _span = FetchTelemetry.Start(_setup.Scope.Span, _setup.Runtime, _step.Name, _setup.Scope.RequestId, 1);
        if (_span is not null)
        {
            _span.SetTag(AggregationTelemetry.Attributes.AskTarget, target.Path.ToString());
            Activity.Current = previous; // never left current on an actor thread
        }
        target.Tell(message, _sink);
    }

    /// <summary>The opt-in: fail as soon as the target's node is reported unreachable, or at once if it already is.</summary>
    private void WatchNode(IActorRef target)
    {
        var reachability = NodeReachability.Get(Context.System);
        if (!reachability.HasFeed && reachability.FirstWarning())
            _setup.Runtime.Log.Warning("Fetcher {Fetcher} asks to fail on an unreachable target, but nothing reports reachability here: start ClusterAggregation.WatchReachability (Actors.Aggregation.Cluster)",
                _step.Name);
        _watchedNode = target.Path.Address;
        reachability.Watch(_watchedNode, Self);
        if (reachability.IsUnreachable(_watchedNode)) Self.Tell(new NodeReachability.NodeUnreachable(_watchedNode));
    }

    protected override void OnReceive(object received)
    {
        if (_done) return;
        var message = received is ReplySink.Delivery delivery ? delivery.Message : received;
        if (_setup.Scope.IsEnded)
        {
            // The request was decided: whatever this is, nobody wants it.
            _done = true;
            return;
        }
        switch (message)
        {
            case ActorIdentity identity when _target is null:
                if (identity.Subject is null)
                    throw Failed(new ActorNotFoundException($"No actor at {_step.Path} for fetcher '{_step.Name}'."));
                Converse(identity.Subject);
                break;
            case NodeReachability.NodeUnreachable unreachable when unreachable.Node.Equals(_watchedNode):
                throw Failed(new AskTargetUnreachableException(
                    $"Fetcher '{_step.Name}': the node {unreachable.Node} of its target {_target?.Path} became unreachable before it replied."));
            case NodeReachability.NodeUnreachable:
                break;
            case ReplySink.TargetTerminated terminated when terminated.Target.Equals(_target):
                throw Failed(new AskTargetTerminatedException(
                    $"Fetcher '{_step.Name}': its target {terminated.Target.Path} terminated before replying."));
            case Status.Failure failure:
                throw Failed(failure.Cause ?? new InvalidOperationException("Status.Failure without a cause."));
            case TReply reply:
                TPart part;
                try
                {
                    part = _step.Map(reply);
                }
                catch (Exception e)
                {
                    throw Failed(e);
                }
                _done = true;
                _sink!.Close(); // nothing more is wanted from the target
                FetchTelemetry.Succeeded(TakeSpan());
                _setup.Coordinator.Tell(new PartCompleted(_step.Index, part), Self);
                break;
            default:
                throw Failed(new InvalidCastException(
                    $"Fetcher '{_step.Name}' expected a {typeof(TReply).Name} reply, but got {message?.GetType().Name ?? "null"}."));
        }
    }

    /// <summary>The conversation failed: end the request's scope when a failure ends the request, and hand it to supervision.</summary>
    private FetchFailedException Failed(Exception error)
    {
        _done = true;
        _sink?.Close();
        var failure = _step.FailureOf(error);
        var span = TakeSpan();
        if (!_step.IsOptional && span is not null) _setup.Scope.FailedSpan = span;
        FetchTelemetry.Failed(span, error, decisive: !_step.IsOptional, _step.IsOptional ? "fell_back" : "failure");
        if (!_step.IsOptional) _setup.Scope.EndOnFailure(failure, _setup.Runtime.Log);
        return new FetchFailedException(_step.Index, failure);
    }

    protected override void PostStop() => CleanUp();

    private Activity? TakeSpan()
    {
        var span = _span;
        _span = null;
        return span;
    }

    private void CleanUp()
    {
        if (_cleanedUp) return;
        _cleanedUp = true;
        _sink?.Close();
        // Stopped before the target replied: the request ended (or was stopped) without this part.
        if (TakeSpan() is { } span)
        {
            var cause = _setup.Scope.Cause;
            FetchTelemetry.Cancelled(span, cause, cause?.Kind == CancellationCauseKind.SiblingFailed ? _setup.Scope.FailedSpan?.Context ?? default : default,
                _setup.Scope.EndedTimestamp);
        }
        if (_watchedNode is not null) NodeReachability.Get(Context.System).Unwatch(_watchedNode, Self);
        _setup.Runtime.Counters.FetcherStopped();
    }

    private sealed class Producer(AskFetchStep<TKey, TReply, TPart> step, FetcherSetup<TKey> setup) : IIndirectActorProducer
    {
        public Type ActorType => typeof(AskFetcher<TKey, TReply, TPart>);

        public ActorBase Produce() => new AskFetcher<TKey, TReply, TPart>(step, setup);

        public void Release(ActorBase actor) { }
    }
}
