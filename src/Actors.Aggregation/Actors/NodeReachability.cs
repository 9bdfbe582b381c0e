using System.Collections.Concurrent;
using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// Which nodes the cluster considers unreachable, as far as this library needs to know: the core depends on Akka alone,
/// so a feed fills this in (Actors.Aggregation.Cluster's <c>ClusterAggregation.WatchReachability</c>), and <c>.Ask</c>
/// fetchers that opt in fail as soon as their target's node is reported unreachable. One per actor system.
/// </summary>
internal sealed class NodeReachability : IExtension
{
    private readonly ConcurrentDictionary<Address, byte> _unreachable = new();
    private readonly ConcurrentDictionary<Address, ConcurrentDictionary<IActorRef, byte>> _watchers = new();
    private volatile bool _hasFeed;
    private int _warned;

    public static NodeReachability Get(ActorSystem system) => system.WithExtension<NodeReachability, Id>();

    /// <summary>Whether a feed reports reachability here; without one, the opt-in has nothing to go by.</summary>
    public bool HasFeed => _hasFeed;

    /// <summary>True the first time only: the missing feed is worth one Warning per system, not one per request.</summary>
    public bool FirstWarning() => Interlocked.Exchange(ref _warned, 1) == 0;

    public bool IsUnreachable(Address node) => _unreachable.ContainsKey(node);

    /// <summary><paramref name="watcher"/> is told <see cref="NodeUnreachable"/> when <paramref name="node"/> is reported unreachable.</summary>
    public void Watch(Address node, IActorRef watcher) => _watchers.GetOrAdd(node, _ => new()).TryAdd(watcher, 0);

    public void Unwatch(Address node, IActorRef watcher)
    {
        if (_watchers.TryGetValue(node, out var watchers)) watchers.TryRemove(watcher, out _);
    }

    /// <summary>From the feed: <paramref name="node"/> is unreachable (or removed), or reachable again.</summary>
    public void Report(Address node, bool reachable)
    {
        _hasFeed = true;
        if (reachable)
        {
            _unreachable.TryRemove(node, out _);
            return;
        }
        _unreachable[node] = 0;
        if (!_watchers.TryGetValue(node, out var watchers)) return;
        foreach (var watcher in watchers.Keys) watcher.Tell(new NodeUnreachable(node), ActorRefs.NoSender);
    }

    /// <summary>From the feed: <paramref name="node"/> left the cluster for good. Its watchers fail now; the address is not
    /// remembered (a node that comes back at the same address is a new member, and DeathWatch covers the old one's actors).</summary>
    public void Removed(Address node)
    {
        Report(node, reachable: false);
        _unreachable.TryRemove(node, out _);
    }

    /// <summary>A feed exists, even before it reports anything.</summary>
    public void FeedStarted() => _hasFeed = true;

    /// <summary>Told to a watcher when its node is reported unreachable.</summary>
    public sealed record NodeUnreachable(Address Node) : INoSerializationVerificationNeeded;

    private sealed class Id : ExtensionIdProvider<NodeReachability>
    {
        public override NodeReachability CreateExtension(ExtendedActorSystem system) => new();
    }
}
