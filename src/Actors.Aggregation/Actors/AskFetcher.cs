using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// A fetcher that is an actor conversation: it sends the step's message to the target, watches the target, and maps the
/// first reply. A <see cref="Status.Failure"/>, a reply of the wrong type, or the target's death fails it; the
/// coordinator's deadline and stop bound it like any other fetcher.
/// </summary>
internal sealed class AskFetcher<TKey, TReply, TPart> : UntypedActor
{
    private readonly AskFetchStep<TKey, TReply, TPart> _step;
    private readonly FetcherInfo<TKey> _info;
    private IActorRef? _target;
    private bool _done;
    private bool _counted;

    private AskFetcher(AskFetchStep<TKey, TReply, TPart> step, FetcherInfo<TKey> info)
    {
        _step = step;
        _info = info;
    }

    public static Props Props(AskFetchStep<TKey, TReply, TPart> step, FetcherInfo<TKey> info) =>
        Akka.Actor.Props.CreateBy(new Producer(step, info));

    protected override void PreStart()
    {
        _info.Runtime.Counters.FetcherStarted();
        _counted = true;
        try
        {
            if (_step.Target is { } target) Converse(target);
            else Context.ActorSelection(_step.Path!).Tell(new Identify(_step.Path), Self);
        }
        catch
        {
            // Akka does not run PostStop for an actor whose PreStart threw.
            PostStop();
            throw;
        }
    }

    private void Converse(IActorRef target)
    {
        _target = target;
        object message;
        try
        {
            message = _step.Message(_info.Request.Key) ?? throw new InvalidOperationException($"Fetcher '{_step.Name}' built a null message.");
        }
        catch (Exception e)
        {
            throw FetchFailedException.Of(_step, e);
        }
        Context.Watch(target);
        target.Tell(message, Self);
    }

    protected override void OnReceive(object message)
    {
        if (_done) return;
        switch (message)
        {
            case ActorIdentity identity when _target is null:
                if (identity.Subject is null)
                    throw FetchFailedException.Of(_step, new ActorNotFoundException($"No actor at {_step.Path} for fetcher '{_step.Name}'."));
                Converse(identity.Subject);
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_target):
                throw FetchFailedException.Of(_step, new AskTargetTerminatedException(
                    $"Fetcher '{_step.Name}': its target {terminated.ActorRef.Path} terminated before replying."));
            case Status.Failure failure:
                throw FetchFailedException.Of(_step, failure.Cause ?? new InvalidOperationException("Status.Failure without a cause."));
            case TReply reply:
                TPart part;
                try
                {
                    part = _step.Map(reply);
                }
                catch (Exception e)
                {
                    throw FetchFailedException.Of(_step, e);
                }
                _done = true;
                _info.Coordinator.Tell(new PartCompleted(_step.Index, part), Self);
                break;
            default:
                throw FetchFailedException.Of(_step, new InvalidCastException(
                    $"Fetcher '{_step.Name}' expected a {typeof(TReply).Name} reply, but got {message?.GetType().Name ?? "null"}."));
        }
    }

    protected override void PostStop()
    {
        if (!_counted) return;
        _counted = false;
        _info.Runtime.Counters.FetcherStopped();
    }

    private sealed class Producer(AskFetchStep<TKey, TReply, TPart> step, FetcherInfo<TKey> info) : IIndirectActorProducer
    {
        public Type ActorType => typeof(AskFetcher<TKey, TReply, TPart>);

        public ActorBase Produce() => new AskFetcher<TKey, TReply, TPart>(step, info);

        public void Release(ActorBase actor) { }
    }
}

/// <summary>The actor an <c>Ask</c> fetcher was talking to terminated before it replied.</summary>
public sealed class AskTargetTerminatedException(string message) : Exception(message);
