using CsCheck;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// Generators of <see cref="Scenario"/>s. Timing is generated as an order, not as times: every timed event of a request
/// (a fetcher that succeeds or faults, the deadline, a cancel or the requester's death) gets a priority; events are sorted by
/// priority, ties in declared order, and the n-th happens at n × <see cref="Scenario.Gap"/>. Shrinking lowers priorities,
/// so a minimal counterexample reads in declared order.
/// </summary>
public static class Generators
{
    /// <summary>Succeeding fetchers are common, or a request with 5 fetchers would almost never succeed.</summary>
    private static readonly Gen<Behaviour> BehaviourGen = Gen.Frequency(
        (50, Behaviour.Succeeds),
        (12, Behaviour.Faults),
        (6, Behaviour.ThrowsBeforeFirstAwait),
        (5, Behaviour.ReturnsNullTask),
        (12, Behaviour.HangsHonouringToken),
        (15, Behaviour.HangsIgnoringToken));

    private static readonly Gen<Interruption> InterruptionGen = Gen.Frequency(
        (50, Interruption.None),
        (25, Interruption.Cancel),
        (25, Interruption.RequesterDies));

    private static readonly Gen<bool> Sometimes = Gen.Int[0, 4].Select(i => i == 4);

    public static readonly Gen<RequestCase> Request =
        from n in Gen.Int[1, 8]
        from behaviours in BehaviourGen.Array[n]
        from priorities in Gen.Int[0, 10].Array[n]
        from nullParts in Sometimes.Array[n]
        from lateFaults in Gen.Bool.Array[n]
        from deadlinePriority in Gen.Int[0, 16]
        from interruption in InterruptionGen
        from interruptPriority in Gen.Int[0, 16]
        select Build(behaviours, priorities, nullParts, lateFaults, deadlinePriority, interruption, interruptPriority);

    public static readonly Gen<Scenario> Scenario =
        Request.List[1, 6].Select(requests => new Scenario(requests.Select((r, i) => r with { Number = i }).ToList()));

    private static RequestCase Build(Behaviour[] behaviours, int[] priorities, bool[] nullParts, bool[] lateFaults,
        int deadlinePriority, Interruption interruption, int interruptPriority)
    {
        var n = behaviours.Length;
        // (priority, declared order, slot owner): fetchers 0..n-1, then the deadline (n), then the interruption (n + 1).
        var timed = new List<(int Priority, int Order)>();
        for (var i = 0; i < n; i++)
            if (behaviours[i] is Behaviour.Succeeds or Behaviour.Faults) timed.Add((priorities[i], i));
        timed.Add((deadlinePriority, n));
        if (interruption != Interruption.None) timed.Add((interruptPriority, n + 1));
        var at = new Dictionary<int, TimeSpan>();
        var rank = 0;
        foreach (var (_, order) in timed.OrderBy(t => t.Priority).ThenBy(t => t.Order))
            at[order] = Model.Scenario.Gap * ++rank;

        var fetchers = new FetcherCase[n];
        for (var i = 0; i < n; i++)
            fetchers[i] = new FetcherCase(i, behaviours[i], at.TryGetValue(i, out var t) ? t : null,
                behaviours[i] == Behaviour.Succeeds && nullParts[i], behaviours[i] == Behaviour.HangsIgnoringToken && lateFaults[i]);
        return new RequestCase(0, fetchers, at[n], interruption, interruption == Interruption.None ? null : at[n + 1]);
    }
}
