using System.Text;
using CsCheck;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>What happens to the node that runs a cross-node scenario's aggregators. The first value is the simplest.</summary>
public enum FaultKind
{
    None,

    /// <summary>From its time on, nothing crosses between the nodes, either way, as when the node crashed or its network died.</summary>
    Silence,

    /// <summary>Nothing crosses for a while (shorter than the failure detector's pause), then the link heals.</summary>
    Blip,

    /// <summary>The node's actor system is terminated at its time: its aggregators stop.</summary>
    Shutdown,
}

/// <summary>A fault of the worker node, on the gap grid: from <see cref="Slot"/>, for <see cref="Length"/> gaps (a blip only).</summary>
public sealed record NodeFault(FaultKind Kind, int Slot, int Length)
{
    public static readonly NodeFault None = new(FaultKind.None, 0, 0);

    public TimeSpan At => Scenario.Gap * Slot;

    public TimeSpan HealsAt => Scenario.Gap * (Slot + Length);

    /// <summary>Whether a message crossing at <paramref name="slot"/> is lost. Fault boundaries never share a slot with an event.</summary>
    public bool Loses(int slot) => Kind switch
    {
        FaultKind.Silence or FaultKind.Shutdown => slot > Slot,
        FaultKind.Blip => slot > Slot && slot < Slot + Length,
        _ => false,
    };

    public override string ToString() => Kind switch
    {
        FaultKind.Silence => $"the worker goes silent at {Scenario.Ms(At)}",
        FaultKind.Blip => $"the link drops everything from {Scenario.Ms(At)} to {Scenario.Ms(HealsAt)}, then heals",
        FaultKind.Shutdown => $"the worker's actor system terminates at {Scenario.Ms(At)}",
        _ => "no node fault",
    };
}

/// <summary>
/// A scenario across nodes: requests sent from node A, through a front per definition, to aggregators on a worker node,
/// and a fault of that node among the events.
/// </summary>
public sealed record CrossNodeScenario(Scenario Local, NodeFault Fault)
{
    public TimeSpan Horizon => Fault.Kind == FaultKind.None ? Local.Horizon : Max(Local.Horizon, Fault.Kind == FaultKind.Blip ? Fault.HealsAt : Fault.At);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// What request <paramref name="request"/> must get with this fault, and whether its fetchers' schedule (starts,
    /// attempts) on the worker is still the model's: it is whenever the worker ran it undisturbed, even if its reply was
    /// lost on the way back.
    /// </summary>
    public (Expected Expected, bool Schedule) Expect(RequestCase request, string workerNode)
    {
        var model = request.Expected;
        var decided = request.Prediction.DecisionSlot;
        var dies = request.Interruption == Interruption.RequesterDies ? request.InterruptSlot : null;
        if (Fault.Kind == FaultKind.None) return (model, true);
        var lost = Fault.Kind != FaultKind.Blip;
        if (model is Expected.NoReply)
            // The requester died first. Its death reaches the front on its own node; the front forgets the request then,
            // unless it answered the node's loss before.
            return Fault.Loses(dies!.Value) && lost ? (Lost(workerNode, mayDeadline: false, mayBeNone: true), false) : (model, true);
        if (!Fault.Loses(decided)) return (model, true);
        if (!lost)
        {
            // The reply was dropped by a partition that healed: the worker ran it as the model says, and the front answers
            // its own deadline, unless the requester died before that.
            return dies is { } at && at < request.DeadlineSlot
                ? (new Expected.NoReply(), true)
                : (new Expected.DeadlineExceeded(request.Fetchers.Select(f => f.Name).ToList()), true);
        }
        // The reply was lost with the node: the front answers the node's loss or its own deadline, or nobody if the
        // requester died before either (a death at the deadline itself races the front's deadline: either may win).
        var deadline = request.DeadlineSlot;
        return (Lost(workerNode, mayDeadline: dies is not { } died || died >= deadline, mayBeNone: dies <= deadline), false);
    }

    private Expected.NodeLost Lost(string node, bool mayDeadline, bool mayBeNone) =>
        new(node, Noticed: true, ShutDown: Fault.Kind == FaultKind.Shutdown, MayDeadline: mayDeadline, MayBeNone: mayBeNone);

    public override string ToString()
    {
        var text = new StringBuilder(Local.ToString());
        text.Append("\n   node fault: ").Append(Fault);
        return text.ToString();
    }
}

/// <summary>
/// Generators of <see cref="CrossNodeScenario"/>s: one to three requests of the local generator, and a fault of the worker.
/// The fault is repaired like a request: its boundaries are pushed back a gap at a time until none shares a slot with an
/// event that crosses between the nodes (a request's decision, its interruption, its deadline), and a blip neither
/// swallows an interruption (a lost cancel would make the model's later schedule matter) nor drops a reply whose requester
/// dies at its deadline. A fault that cannot be repaired is dropped (the scenario runs without one).
/// </summary>
public static class NodeFaultGenerators
{
    private static readonly Gen<FaultKind> KindGen = Gen.Frequency(
        (30, Gen.Const(FaultKind.None)),
        (30, Gen.Const(FaultKind.Silence)),
        (20, Gen.Const(FaultKind.Blip)),
        (20, Gen.Const(FaultKind.Shutdown)));

    public static readonly Gen<CrossNodeScenario> Scenario =
        from requests in Generators.Request.List[1, 3]
        from kind in KindGen
        // Early more often than the requests' own events: a node lost early leaves time for its loss to be noticed.
        from slot in Gen.Int[1, 8]
        from length in Gen.Int[1, 2]
        select Build(new Scenario(requests.Select((r, i) => r with { Number = i }).ToList()), new NodeFault(kind, slot, length));

    private static CrossNodeScenario Build(Scenario local, NodeFault fault)
    {
        if (fault.Kind == FaultKind.None) return new CrossNodeScenario(local, NodeFault.None);
        for (var step = 0; step < 24; step++, fault = fault with { Slot = fault.Slot + 1 })
            if (Fits(local, fault)) return new CrossNodeScenario(local, fault);
        return new CrossNodeScenario(local, NodeFault.None);
    }

    private static bool Fits(Scenario local, NodeFault fault)
    {
        foreach (var request in local.Requests)
        {
            var crossing = new List<int> { request.Prediction.DecisionSlot, request.DeadlineSlot };
            if (request.InterruptSlot is { } interrupt) crossing.Add(interrupt);
            var boundaries = fault.Kind == FaultKind.Blip ? new[] { fault.Slot, fault.Slot + fault.Length } : [fault.Slot];
            if (boundaries.Any(crossing.Contains)) return false;
            if (fault.Kind != FaultKind.Blip) continue;
            if (request.InterruptSlot is { } i && fault.Loses(i)) return false;
            if (request.Interruption == Interruption.RequesterDies && request.InterruptSlot == request.DeadlineSlot
                && fault.Loses(request.Prediction.DecisionSlot)) return false;
        }
        return true;
    }
}
