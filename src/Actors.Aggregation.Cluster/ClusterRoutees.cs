using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Aggregation.Cluster;

/// <summary>
/// The aggregators of a cluster front: the actor at one path on every member that is up and has the role. Found with
/// <see cref="Identify"/> (and asked again until it answers, since a member may be up before its aggregator is), watched,
/// and taken out of the rotation when their member leaves, becomes unreachable or is removed; their requests are answered
/// <see cref="NodeFailed"/> when the member is removed or downed, or as soon as it is unreachable with the opt-in.
/// </summary>
internal sealed class ClusterRoutees(string aggregatorPath, string? role) : FrontRoutees
{
    private readonly HashSet<Address> _searching = [];
    private readonly HashSet<Address> _unreachable = [];
    private readonly string[] _elements = aggregatorPath.Split('/', StringSplitOptions.RemoveEmptyEntries);

    public override void Start(FrontActor front, IActorContext context)
    {
        ClusterAggregation.WatchReachability(context.System);
        Akka.Cluster.Cluster.Get(context.System).Subscribe(context.Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        front.Timers.StartPeriodicTimer(IdentifyTick.Instance, IdentifyTick.Instance, front.Settings.IdentifyInterval);
    }

    public override void Stop(FrontActor front, IActorContext context)
    {
        Akka.Cluster.Cluster.Get(context.System).Unsubscribe(context.Self);
    }

    public override bool Handle(FrontActor front, IActorContext context, object message)
    {
        switch (message)
        {
            case ClusterEvent.MemberUp up when HasRole(up.Member):
                _searching.Add(up.Member.Address);
                Identify(context, up.Member.Address);
                return true;
            case ClusterEvent.MemberUp:
                return true;
            case ActorIdentity { MessageId: string id } identity when _searching.FirstOrDefault(a => a.ToString() == id) is { } node:
                if (identity.Subject is { } aggregator && _searching.Remove(node))
                {
                    front.AddAggregator(aggregator);
                    if (_unreachable.Contains(node)) front.Suspend(node);
                    front.Log.Info("Aggregator front {Front} sends requests to {Aggregator}", context.Self.Path, aggregator.Path);
                }
                return true;
            case ActorIdentity:
                return true; // a second answer, after the first was taken (the ticks ask again until one comes)
            case IdentifyTick:
                foreach (var node in _searching) Identify(context, node);
                return true;
            case ClusterEvent.MemberLeft or ClusterEvent.MemberExited:
                // Leaving: no new requests; those it runs finish there (it drains before it goes).
                var leaving = ((ClusterEvent.MemberStatusChange)message).Member.Address;
                _searching.Remove(leaving);
                front.Suspend(leaving);
                return true;
            case ClusterEvent.MemberDowned downed:
                _searching.Remove(downed.Member.Address);
                front.NodeLost(downed.Member.Address, "the node was downed");
                return true;
            case ClusterEvent.MemberRemoved removed:
                _searching.Remove(removed.Member.Address);
                _unreachable.Remove(removed.Member.Address);
                front.NodeLost(removed.Member.Address, $"the node was removed from the cluster (it was {removed.PreviousStatus})");
                front.ForgetNode(removed.Member.Address);
                return true;
            case ClusterEvent.UnreachableMember unreachable:
                _unreachable.Add(unreachable.Member.Address);
                if (front.Settings.FailOnUnreachable) front.NodeLost(unreachable.Member.Address, "the node is unreachable");
                else front.Suspend(unreachable.Member.Address);
                return true;
            case ClusterEvent.ReachableMember reachable:
                _unreachable.Remove(reachable.Member.Address);
                if (reachable.Member.Status == MemberStatus.Up) front.Resume(reachable.Member.Address);
                return true;
            case ClusterEvent.IMemberEvent or ClusterEvent.IReachabilityEvent:
                return true;
            default:
                return false;
        }
    }

    private bool HasRole(Member member) => role is null || member.HasRole(role);

    private void Identify(IActorContext context, Address node)
    {
        var path = _elements.Aggregate((ActorPath)new RootActorPath(node), (p, element) => p / element);
        context.ActorSelection(path).Tell(new Identify(node.ToString()), context.Self); // a string crosses with any serializer settings
    }

    private sealed class IdentifyTick : INoSerializationVerificationNeeded
    {
        public static readonly IdentifyTick Instance = new();
    }
}
