using CsCheck;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// Generators of <see cref="Scenario"/>s. Every time is a whole number of gaps (<see cref="Scenario.Gap"/>): attempt durations,
/// backoffs, the deadline, the interruption. A fetcher's durations count from its attempt's start, so under a concurrency
/// limit (or after a retry's backoff) the reference model simulates the schedule; the generated request is then repaired, one
/// gap at a time, until no two timed events share a slot up to the decision (<see cref="ReferenceModel.Simulate"/>): the one
/// of the two declared later is pushed back a gap. So whatever the schedule, events that decide or change the outcome are at
/// least a gap apart. Shrinking moves towards the simplest request: FailFast, no limit, no retry, short times.
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

    /// <summary>
    /// One request in four is faulty: most fetchers fault, so Quorum's and CollectAll's failure paths (many failures, in
    /// order; retries spent) come up often, not only by chance.
    /// </summary>
    private static readonly Gen<Behaviour> FaultyBehaviourGen = Gen.Frequency(
        (30, Behaviour.Succeeds),
        (40, Behaviour.Faults),
        (8, Behaviour.ThrowsBeforeFirstAwait),
        (6, Behaviour.ReturnsNullTask),
        (8, Behaviour.HangsHonouringToken),
        (8, Behaviour.HangsIgnoringToken));

    private static readonly Gen<Interruption> InterruptionGen = Gen.Frequency(
        (50, Interruption.None),
        (25, Interruption.Cancel),
        (25, Interruption.RequesterDies));

    private static readonly Gen<bool> Sometimes = Gen.Int[0, 4].Select(i => i == 4);

    /// <summary>One fetcher in six retries: 2 to 4 attempts, a backoff of one or two gaps, constant or doubling.</summary>
    private static readonly Gen<RetryCase?> RetryGen = Gen.Frequency(
        (5, Gen.Const((RetryCase?)null)),
        (1, from attempts in Gen.Int[2, 4]
            from backoff in Gen.Int[1, 2]
            from multiplier in Gen.Frequency((2, 1), (1, 2))
            select (RetryCase?)new RetryCase(attempts, backoff, multiplier)));

    private sealed record RawFetcher(Behaviour Steady, RetryCase? Retry, int Transient, int[] Slots, int[] TransientSlots, bool NullPart, bool LateFault);

    /// <summary>
    /// A fetcher: its steady behaviour and, with a retry policy, 0 to all of its attempts failing transiently first (after 0
    /// to 2 gaps; 0 means it throws before its first await). So a retried fetcher fails transiently then succeeds, fails every
    /// attempt, or fails then hangs.
    /// </summary>
    private static Gen<RawFetcher> FetcherGen(Gen<Behaviour> behaviours) =>
        from steady in behaviours
        from retry in RetryGen
        from transient in Gen.Int[0, 4]
        from slots in Gen.Int[1, 3].Array[4]
        from transientSlots in Gen.Int[0, 2].Array[4]
        from nullPart in Sometimes
        from lateFault in Gen.Bool
        select new RawFetcher(steady, retry, transient, slots, transientSlots, nullPart, lateFault);

    private static Gen<PolicyCase> PolicyGen(int n) => Gen.Frequency(
        (40, Gen.Const(PolicyCase.FailFast)),
        (20, Gen.Const(PolicyCase.CollectAll)),
        (15, Gen.Const(new PolicyCase(PolicyKind.Quorum, 1))),
        (25, Gen.Int[1, n].Select(k => new PolicyCase(PolicyKind.Quorum, k))));

    /// <summary>Half the requests have a limit, 1 to n (n itself means none, as the library reads it).</summary>
    private static Gen<int?> LimitGen(int n) => Gen.Frequency(
        (55, Gen.Const((int?)null)),
        (45, Gen.Int[1, n].Select(l => (int?)l)));

    public static readonly Gen<RequestCase> Request = RequestWith(InterruptionGen);

    /// <summary>A request nothing interrupts: the run a group of coalesced requests shares (each of them has its own interruptions).</summary>
    public static readonly Gen<RequestCase> Uninterrupted = RequestWith(Gen.Const(Interruption.None));

    private static Gen<RequestCase> RequestWith(Gen<Interruption> interruptions) =>
        (from n in Gen.Int[1, 8]
         from policy in PolicyGen(n)
         from limit in LimitGen(n)
         from faulty in Gen.Int[0, 3].Select(i => i == 3)
         from fetchers in FetcherGen(faulty ? FaultyBehaviourGen : BehaviourGen).Array[n]
         from deadline in Gen.Int[1, 10]
         from interruption in interruptions
         // Up to a gap after the deadline: a late cancel or death must be harmless, but waiting longer proves no more.
         from interruptAt in Gen.Int[1, deadline + 1]
         select Build(policy, limit, fetchers, deadline, interruption, interruptAt))
        .Where(r => r is not null)
        .Select(r => r!);

    public static readonly Gen<Scenario> Scenario =
        Request.List[1, 6].Select(requests => new Scenario(requests.Select((r, i) => r with { Number = i }).ToList()));

    /// <summary>Repairs left after this many steps: the request is dropped (it never happens in practice).</summary>
    private const int RepairSteps = 500;

    private static RequestCase? Build(PolicyCase policy, int? limit, RawFetcher[] raw, int deadline, Interruption interruption, int interruptAt)
    {
        var fetchers = raw.Select((f, i) => Fetcher(i, f)).ToArray();
        var request = new RequestCase(0, policy, limit, fetchers, deadline, interruption, interruption == Interruption.None ? null : interruptAt);
        for (var step = 0; step < RepairSteps; step++)
        {
            var (_, collision) = ReferenceModel.Simulate(request);
            if (collision is null) return request;
            request = PushBack(request, collision);
        }
        return null;
    }

    private static FetcherCase Fetcher(int index, RawFetcher raw)
    {
        var attempts = raw.Retry?.MaxAttempts ?? 1;
        var transient = raw.Retry is null ? 0 : Math.Min(raw.Transient, attempts);
        var script = new List<AttemptScript>();
        for (var a = 1; a <= attempts; a++)
        {
            var step = a <= transient
                ? raw.TransientSlots[a - 1] == 0 ? new AttemptScript(Behaviour.ThrowsBeforeFirstAwait, 0) : new AttemptScript(Behaviour.Faults, raw.TransientSlots[a - 1])
                : new AttemptScript(raw.Steady, raw.Steady is Behaviour.Succeeds or Behaviour.Faults ? raw.Slots[a - 1] : 0);
            script.Add(step);
            if (step.Behaviour is Behaviour.Succeeds or Behaviour.HangsHonouringToken or Behaviour.HangsIgnoringToken) break;
        }
        var succeeds = script.Any(s => s.Behaviour == Behaviour.Succeeds);
        var ignores = script.Any(s => s.Behaviour == Behaviour.HangsIgnoringToken);
        return new FetcherCase(index, script, raw.Retry, succeeds && raw.NullPart, ignores && raw.LateFault);
    }

    /// <summary>
    /// Moves one of the colliding events a gap later: the attempt of the latest-declared fetcher involved (its duration, or
    /// for a backoff after an attempt that failed at once, the backoff itself), else the interruption. The deadline never moves.
    /// </summary>
    private static RequestCase PushBack(RequestCase request, Collision collision)
    {
        var moved = collision.Sources
            .Where(s => s.Kind is SourceKind.AttemptEnd or SourceKind.BackoffEnd)
            .OrderByDescending(s => s.Fetcher).ThenByDescending(s => s.Attempt)
            .Cast<Source?>().FirstOrDefault();
        if (moved is { } source)
        {
            var fetchers = request.Fetchers.ToArray();
            var f = fetchers[source.Fetcher];
            var script = f.Script.ToArray();
            var attempt = script[source.Attempt - 1];
            if (attempt.IsTimed)
            {
                script[source.Attempt - 1] = attempt with { Slots = attempt.Slots + 1 };
                fetchers[source.Fetcher] = f with { Script = script };
            }
            else
            {
                fetchers[source.Fetcher] = f with { Retry = f.Retry! with { BackoffSlots = f.Retry.BackoffSlots + 1 } };
            }
            return request with { Fetchers = fetchers };
        }
        return request with { InterruptSlot = request.InterruptSlot + 1 };
    }
}
