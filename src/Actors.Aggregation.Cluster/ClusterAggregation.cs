using Akka.Actor;
using Akka.Cluster;

namespace Actors.Aggregation.Cluster;

/// <summary>What the cluster tells the core library.</summary>
public static class ClusterAggregation
{
    /// <summary>
    /// Starts (once per actor system) the feed that tells the library which members are unreachable, so that <c>.Ask</c>
    /// fetchers with <c>failOnUnreachable</c> fail as soon as their target's node is, without waiting for the node to be
    /// downed and removed. The cluster front and <c>WithClusterAggregator</c> start it themselves. Calling it again is harmless.
    /// </summary>
    /// <param name="system">A system whose provider is the cluster.</param>
    public static void WatchReachability(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var reachability = NodeReachability.Get(system);
        lock (reachability)
        {
            if (reachability.HasFeed) return;
            reachability.FeedStarted();
            ((ExtendedActorSystem)system).SystemActorOf(Props.Create(() => new ReachabilityFeed(reachability)), "aggregation-reachability");
        }
    }

    /// <summary>Subscribes to the cluster's reachability and removals, and reports them to <see cref="NodeReachability"/>.</summary>
    private sealed class ReachabilityFeed(NodeReachability reachability) : UntypedActor
    {
        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case ClusterEvent.UnreachableMember unreachable:
                    reachability.Report(unreachable.Member.Address, reachable: false);
                    break;
                case ClusterEvent.ReachableMember reachable:
                    reachability.Report(reachable.Member.Address, reachable: true);
                    break;
                case ClusterEvent.MemberRemoved removed:
                    // Gone for good: an Ask to it fails now, whatever DeathWatch says later.
                    reachability.Removed(removed.Member.Address);
                    break;
            }
        }
    }
}
