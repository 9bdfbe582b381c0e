using Akka.Actor;
using Akka.Dispatch.SysMsg;

namespace Actors.Aggregation;

/// <summary>
/// The address an ask fetcher's target answers and reports its death to. It passes everything on to the fetcher actor while
/// that lives; once the fetcher has stopped (its request was decided), it drops what still comes, so a late reply is
/// neither delivered nor a dead letter. Registered as a temporary actor, like an Ask's, so a target on another node can
/// answer it by path.
/// </summary>
internal sealed class ReplySink : MinimalActorRef
{
    private readonly IActorRefProvider _provider;
    private readonly ActorPath _path;
    private IActorRef? _fetcher;
    private IInternalActorRef? _watched;

    public ReplySink(IActorRef fetcher, IActorRefProvider provider)
    {
        _fetcher = fetcher;
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

    /// <summary>The fetcher stopped: drop from now on, stop watching, and leave the temporary actors.</summary>
    public void Close()
    {
        Volatile.Write(ref _fetcher, null);
        _watched?.SendSystemMessage(new Unwatch(_watched, this));
        _provider.UnregisterTempActor(_path);
    }

    protected override void TellInternal(object message, IActorRef sender) => Volatile.Read(ref _fetcher)?.Tell(message, sender);

    public override void SendSystemMessage(ISystemMessage message)
    {
        if (message is DeathWatchNotification notification)
            Volatile.Read(ref _fetcher)?.Tell(new TargetTerminated(notification.Actor), ActorRefs.NoSender);
    }

    /// <summary>The watched target terminated.</summary>
    public sealed record TargetTerminated(IActorRef Target);
}
