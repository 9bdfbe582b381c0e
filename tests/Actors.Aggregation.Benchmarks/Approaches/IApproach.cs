using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;
using Akka.Routing;

namespace Actors.Aggregation.Benchmarks.Approaches;

/// <summary>
/// One way of running a <see cref="Workload"/>. Every approach takes the same <see cref="Aggregate{TKey}"/> request and answers the
/// same <see cref="AggregateSucceeded{TResult}"/> / <see cref="AggregateFailed"/> reply, so message costs outside the
/// aggregation itself are equal and only the aggregation differs.
/// </summary>
public interface IApproach
{
    /// <summary>Starts one request; exactly one reply goes to <paramref name="replyTo"/>.</summary>
    void Send(Aggregate<int> request, IActorRef replyTo);
}

public enum ApproachKind
{
    /// <summary><c>Task.WhenAll</c> plus a linked <c>CancellationTokenSource</c>: no actors at all.</summary>
    Floor,

    /// <summary>A ReceiveActor coordinator per request, fetcher children from <c>Props.Create(() =&gt; new ...)</c>, all-for-one.</summary>
    HandWrittenAkka,

    /// <summary>One long-lived actor that <c>Task.WhenAll</c>s Asks to long-lived fetcher actors and pipes the result back.</summary>
    AskScatterGather,

    /// <summary><c>AggregatorActor.Props(definition)</c>.</summary>
    Ours,

    /// <summary>PROTOTYPE for FINDINGS.md: ours, unchanged, with its per-request actors given a lean mailbox by deployment config.</summary>
    OursLeanMailbox,
}

public static class ApproachFactory
{
    public static readonly ApproachKind[] All =
        [ApproachKind.Floor, ApproachKind.HandWrittenAkka, ApproachKind.AskScatterGather, ApproachKind.Ours];

    public static string Label(ApproachKind kind) => kind switch
    {
        ApproachKind.Floor => "floor (Task.WhenAll)",
        ApproachKind.HandWrittenAkka => "hand-written Akka",
        ApproachKind.AskScatterGather => "Ask scatter-gather",
        ApproachKind.Ours => "ours (AggregatorActor)",
        ApproachKind.OursLeanMailbox => "ours + lean mailbox (prototype)",
        _ => kind.ToString(),
    };

    /// <summary>
    /// Our library's settings in the benchmark: no admission limit, so the harness measures aggregation rather than
    /// <c>RequestRejected("busy")</c> at 10,000 and 100,000 in flight.
    /// </summary>
    public static AggregationSettings OurSettings(ActorSystem system) => AggregationSettings.Create(system).WithMaxInFlight(0);

    public static IApproach Create(ApproachKind kind, ActorSystem system, Workload workload) => kind switch
    {
        ApproachKind.Floor => new FloorApproach(workload),
        ApproachKind.HandWrittenAkka => new ActorApproach(system.ActorOf(HandWrittenAggregator.Props(workload), "hand-written")),
        ApproachKind.AskScatterGather => new ActorApproach(system.ActorOf(AskScatterGather.Props(workload), "ask-scatter-gather")),
        ApproachKind.Ours => new ActorApproach(system.ActorOf(AggregatorActor.Props(workload.ToDefinition(), OurSettings(system)), "ours")),
        // The deployment in BenchSystem.Config gives this aggregator's children Prototypes.LeanMailbox.
        ApproachKind.OursLeanMailbox => new ActorApproach(system.ActorOf(AggregatorActor.Props(workload.ToDefinition(), OurSettings(system)), "ours-lean")),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Several aggregators behind one ref. A consistent-hash pool keyed by request id keeps per-request
    /// semantics: <see cref="CancelAggregate"/> for an id reaches the routee that runs that request.
    /// </summary>
    public static IApproach CreateOursPool(ActorSystem system, Workload workload, int routees)
    {
        var pool = new ConsistentHashingPool(routees).WithHashMapping(message => message switch
        {
            Aggregate<int> request => request.RequestId ?? (object)request.Key,
            CancelAggregate cancel => cancel.RequestId,
            _ => null!,
        });
        return new ActorApproach(system.ActorOf(pool.Props(AggregatorActor.Props(workload.ToDefinition(), OurSettings(system))), "ours-pool"));
    }

    /// <summary>Several aggregators behind one ref, the simpler shape: a round-robin pool (a CancelAggregate would then have to be broadcast).</summary>
    public static IApproach CreateOursRoundRobin(ActorSystem system, Workload workload, int routees) =>
        new ActorApproach(system.ActorOf(new RoundRobinPool(routees).Props(AggregatorActor.Props(workload.ToDefinition(), OurSettings(system))),
            "ours-round-robin"));
}

/// <summary>An approach whose front door is an actor: the request is told to it, with the requester as sender.</summary>
public sealed class ActorApproach(IActorRef front) : IApproach
{
    public IActorRef Front { get; } = front;

    public void Send(Aggregate<int> request, IActorRef replyTo) => Front.Tell(request, replyTo);
}
