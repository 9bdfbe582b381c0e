using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// Where a front's aggregators come from, and how they come and go: told to the front through its
/// <c>AddAggregator</c>, <c>Suspend</c>, <c>Resume</c>, <c>NodeLost</c> and <c>ForgetNode</c>. Runs inside the front actor.
/// </summary>
internal abstract class FrontRoutees
{
    /// <summary>Called in the front's <c>PreStart</c>.</summary>
    public abstract void Start(FrontActor front, IActorContext context);

    /// <summary>A message the front does not know itself; true when handled here.</summary>
    public virtual bool Handle(FrontActor front, IActorContext context, object message) => false;

    /// <summary>Called in the front's <c>PostStop</c>.</summary>
    public virtual void Stop(FrontActor front, IActorContext context) { }
}

/// <summary>A pool: the aggregators are the front's own children, started with it and stopped with it.</summary>
internal sealed class PoolRoutees(Props aggregator, int instances) : FrontRoutees
{
    public override void Start(FrontActor front, IActorContext context)
    {
        for (var i = 0; i < instances; i++) front.AddAggregator(context.ActorOf(aggregator, $"aggregator-{i}"));
    }
}

/// <summary>A fixed list of aggregators that run elsewhere; one that stops is not replaced.</summary>
internal sealed class FixedRoutees(IReadOnlyList<IActorRef> aggregators) : FrontRoutees
{
    public override void Start(FrontActor front, IActorContext context)
    {
        foreach (var aggregator in aggregators) front.AddAggregator(aggregator);
    }
}
