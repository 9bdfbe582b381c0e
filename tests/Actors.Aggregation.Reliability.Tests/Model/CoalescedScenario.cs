using System.Collections.Concurrent;
using System.Text;
using CsCheck;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// One of a group of coalesced requests, all sent at once for one key. Its own times are in half gaps and odd (between two
/// of the run's slots, so never racing one of its events), except for the longest deadline, which is the run's own and on
/// its grid: <see cref="DeadlineHalves"/> even.
/// </summary>
public sealed record JoinerCase(int Number, int DeadlineHalves, Interruption Interruption, int? InterruptHalves)
{
    public TimeSpan Deadline => Scenario.Gap * DeadlineHalves / 2;

    public TimeSpan? InterruptAt => InterruptHalves is { } halves ? Scenario.Gap * halves / 2 : null;

    /// <summary>When it leaves the run, in half gaps: its interruption, if before its own deadline; else that deadline.</summary>
    public int LeavesAt => InterruptHalves is { } at && at < DeadlineHalves ? at : DeadlineHalves;

    public override string ToString()
    {
        var interruption = Interruption switch
        {
            Interruption.Cancel => $", CancelAggregate at {Scenario.Ms(InterruptAt)}",
            Interruption.RequesterDies => $", requester dies at {Scenario.Ms(InterruptAt)}",
            _ => "",
        };
        return $"requester #{Number}: deadline {Scenario.Ms(Deadline)}{interruption}";
    }
}

/// <summary>
/// Several requests for one key on an aggregator with <c>WithCoalescing()</c>: they share one run of <see cref="Run"/>'s
/// fetchers, whose deadline is the latest of theirs (<see cref="Run"/>'s deadline); each may cancel, die or time out on its own.
/// </summary>
public sealed record CoalescedScenario(RequestCase Run, IReadOnlyList<JoinerCase> Joiners)
{
    /// <summary>The run's decision if nobody left it first, in half gaps.</summary>
    public int DecisionHalves => 2 * Run.Prediction.DecisionSlot;

    /// <summary>When the last requester left, in half gaps; before <see cref="DecisionHalves"/>, the run was cancelled then, unheard.</summary>
    public int LastLeaves => Joiners.Max(j => j.LeavesAt);

    public bool Abandoned => LastLeaves < DecisionHalves;

    /// <summary>
    /// The one reply a requester must get: the run's, if it is still in the run when the run decides; else its own leaving's
    /// (cancelled, nothing when it died, or <see cref="Expected.DeadlineExceeded"/> naming what the run had not finished then).
    /// </summary>
    public Expected ExpectedFor(JoinerCase joiner)
    {
        // Still in when the run decides; or the one whose deadline is the run's, which the run decides for.
        if (joiner.LeavesAt > DecisionHalves || joiner.LeavesAt == 2 * Run.DeadlineSlot) return Run.Expected;
        if (joiner.LeavesAt < joiner.DeadlineHalves)
            return joiner.Interruption == Interruption.Cancel ? new Expected.Cancelled() : new Expected.NoReply();
        return new Expected.DeadlineExceeded(Run.Prediction.PendingAfter(joiner.DeadlineHalves / 2, Run));
    }

    public TimeSpan Horizon => Scenario.Gap * Math.Max(Run.DeadlineSlot, Joiners.Max(j => j.InterruptHalves ?? 0) / 2.0);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Joiners.Count).Append(" coalesced request(s) for one key, sharing\n   ").Append(Run);
        if (Abandoned) text.Append($"\n      but every requester left by {Scenario.Ms(Scenario.Gap * LastLeaves / 2)}: the run is cancelled unheard");
        foreach (var joiner in Joiners) text.Append("\n   ").Append(joiner).Append("\n      expected: ").Append(ExpectedFor(joiner));
        return text.ToString();
    }

    private static readonly Gen<Interruption> InterruptionGen = Gen.Frequency(
        (40, Interruption.None),
        (30, Interruption.Cancel),
        (30, Interruption.RequesterDies));

    /// <summary>
    /// One to five requesters; one of them (any) has the run's deadline, the others an earlier one of their own; each may be
    /// interrupted, up to a gap and a half after the run's deadline, never at its own deadline.
    /// </summary>
    public static readonly Gen<CoalescedScenario> Generator =
        // A run decided at time zero (a fetch failing before its first await) may be over before the later requests of the
        // group reach the aggregator, which then rightly start a fresh run: the plain property covers those runs.
        from run in Generators.Uninterrupted.Where(r => r.Prediction.DecisionSlot > 0)
        from count in Gen.Int[1, 5]
        from longest in Gen.Int[0, count - 1]
        from deadlines in Gen.Int[0, run.DeadlineSlot - 1].Array[count]
        from interruptions in InterruptionGen.Array[count]
        from interruptSlots in Gen.Int[0, run.DeadlineSlot].Array[count]
        select new CoalescedScenario(run, Enumerable.Range(0, count).Select(i =>
        {
            var deadline = i == longest ? 2 * run.DeadlineSlot : 2 * deadlines[i] + 1;
            var interruptAt = 2 * interruptSlots[i] + 1;
            // Its interruption and its own deadline at once would race: the interruption moves a gap later.
            if (interruptAt == deadline) interruptAt += 2;
            return new JoinerCase(i, deadline, interruptions[i], interruptions[i] == Interruption.None ? null : interruptAt);
        }).ToList());
}

/// <summary>One requester of a coalesced group while it runs: its id and the replies it got.</summary>
public sealed class JoinerRun(JoinerCase @case, string requestId) : IReplyRecorder
{
    private readonly ConcurrentQueue<object> _replies = new();
    private readonly TaskCompletionSource _firstReply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JoinerCase Case { get; } = @case;
    public string RequestId { get; } = requestId;
    public Akka.Actor.IActorRef Requester { get; set; } = Akka.Actor.ActorRefs.Nobody;
    public bool RequesterStopped { get; set; }
    public IReadOnlyList<object> Replies => _replies.ToArray();
    public Task FirstReply => _firstReply.Task;

    public void Received(object reply)
    {
        _replies.Enqueue(reply);
        _firstReply.TrySetResult();
    }
}
