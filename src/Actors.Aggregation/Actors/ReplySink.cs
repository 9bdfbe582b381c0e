using Akka.Actor;
using Akka.Dispatch.SysMsg;

namespace Actors.Aggregation;

/// <summary>
/// The address an ask fetcher's target answers and reports its death to. It passes everything on to the fetcher actor while
/// the fetcher waits for it; once the request's scope has ended, or the fetcher has its answer or has stopped, it drops what
/// still comes, so a late reply (or death notice) is neither delivered nor a dead letter. Registered as a temporary actor, like an Ask's, so a target on another node can
/// answer it by path.
/// </summary>
internal sealed class ReplySink : MinimalActorRef
{
    private readonly IActorRefProvider _provider;
    private readonly ActorPath _path;
    private readonly ICauseSource _scope;
    private IActorRef? _fetcher;
    private IInternalActorRef? _watched;

    public ReplySink(IActorRef fetcher, IActorRefProvider provider, ICauseSource scope)
    {
        _fetcher = fetcher;
        _scope = scope;
        _provider = provider;
        _path = provider.TempPath();
        provider.RegisterTempActor(this, _path);
    }

    public override ActorPath Path => _path;

    public override IActorRefProvider Provider => _provider;

    /// <summary>Watches <paramref name="target"/> on the fetcher's behalf: its death reaches the fetcher as <see cref="TargetTerminated"/>.</summary>
    public void Watch(IActorRef target)
    {
        if (target is not IInternalActorRef watchee) return;
        _watched = watchee;
        watchee.SendSystemMessage(new Watch(watchee, this));
    }

    /// <summary>The fetcher has its answer, or stopped: drop from now on, stop watching, and leave the temporary actors. Idempotent.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _fetcher, null) is null) return;
        _watched?.SendSystemMessage(new Unwatch(_watched, this));
        _provider.UnregisterTempActor(_path);
    }

    /// <summary>The fetcher, while it still waits for something: not once the request's scope has ended (its actor is
    /// stopping or about to, and a message to it then would be a dead letter).</summary>
    private IActorRef? Waiting => _scope.Cause is null ? Volatile.Read(ref _fetcher) : null;

    protected override void TellInternal(object message, IActorRef sender) => Waiting?.Tell(new Delivery(message), sender);

    public override void SendSystemMessage(ISystemMessage message)
    {
        if (message is DeathWatchNotification notification) Waiting?.Tell(new Delivery(new TargetTerminated(notification.Actor)), ActorRefs.NoSender);
    }

    /// <summary>
    /// What came to the sink, passed on to its fetcher. The hop is always local, and the message was serialized already if it
    /// crossed a node, so it is not verified again under <c>serialize-messages</c> (a <c>Status.Failure</c> carries an exception
    /// Akka's default serializer cannot).
    /// </summary>
    public sealed record Delivery(object Message) : INoSerializationVerificationNeeded;

    /// <summary>The watched target terminated.</summary>
    public sealed record TargetTerminated(IActorRef Target) : INoSerializationVerificationNeeded;
}
