using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// TEST-ONLY. Deliberate breakage of the library, so the reliability tests can prove that they notice it (a test that
/// cannot fail proves nothing). Handed to an aggregator only through the internal
/// <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?, FaultInjection?)"/> overload,
/// reachable by the library's own test projects; an aggregator without it pays one null check per request.
/// </summary>
internal sealed class FaultInjection
{
    /// <summary>
    /// For the requests it returns true for, the coordinator forgets to stop one fetcher when the request ends: it stops every
    /// other fetcher one by one, but not the last declared one still alive, and waits for it, so neither stops. That fetcher's
    /// token never fires (unless it is the request's own). It models the classic structured-concurrency bug (a child that
    /// outlives its scope) in the only form Akka allows, since a child cannot outlive a stopped parent.
    /// </summary>
    public Func<string, bool>? SkipStoppingAFetcher { get; init; }

    /// <summary>
    /// For the requests it returns true for, the coordinator throws while it starts the request (after arming its deadline,
    /// before its fetchers), standing for any failure while a request starts: it must still be answered exactly once.
    /// </summary>
    public Func<string, bool>? FailWhileStarting { get; init; }

    internal void WhileStarting(string requestId)
    {
        if (FailWhileStarting?.Invoke(requestId) == true) throw new InvalidOperationException("injected failure while starting the request");
    }

    /// <summary>
    /// The broken stop. True when it applied: the coordinator then must not stop itself. <paramref name="notStopped"/> is the
    /// coordinator's record of the fetchers it has not stopped one by one (null when it stops none that way): a fetcher
    /// already stopping cannot be "forgotten", so only one still alive and not stopped is left running.
    /// </summary>
    internal bool LeaksAFetcher<TKey>(IActorContext coordinator, string requestId, FetchStep<TKey>[] steps, IReadOnlyList<IActorRef?>? notStopped)
    {
        if (SkipStoppingAFetcher?.Invoke(requestId) != true) return false;
        var skipped = false;
        for (var i = steps.Length - 1; i >= 0; i--)
        {
            var fetcher = coordinator.Child(steps[i].ActorName);
            if (fetcher.IsNobody() || (notStopped is not null && notStopped[i] is null)) continue;
            if (!skipped) skipped = true;
            else coordinator.Stop(fetcher);
        }
        return skipped;
    }
}
