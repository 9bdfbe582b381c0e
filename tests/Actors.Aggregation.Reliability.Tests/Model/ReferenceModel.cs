namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>The one correct reply to a request, as the reference model sees it.</summary>
public abstract record Expected
{
    /// <summary>Every fetcher succeeded first: the parts' text joined in declared order.</summary>
    public sealed record Succeeds(string Result) : Expected
    {
        public override string ToString() => $"AggregateSucceeded \"{Result}\"";
    }

    /// <summary>
    /// A fetcher failed first. Usually exactly one fetcher can be first; fetchers that fail at once (before their first
    /// await, or with a null task) all fail at time zero, and then any of them may be the reported first cause, as with
    /// errgroup when two goroutines fail together.
    /// </summary>
    public sealed record FetcherFails(IReadOnlyList<string> AnyOf) : Expected
    {
        public override string ToString() => $"AggregateFailed FetcherFailed({string.Join(" or ", AnyOf)})";
    }

    /// <summary>The deadline came first; <see cref="Pending"/> had not finished.</summary>
    public sealed record DeadlineExceeded(IReadOnlyList<string> Pending) : Expected
    {
        public override string ToString() => $"AggregateFailed DeadlineExceeded(pending: {string.Join(", ", Pending)})";
    }

    /// <summary>The requester's <see cref="CancelAggregate"/> came first.</summary>
    public sealed record Cancelled : Expected
    {
        public override string ToString() => "AggregateFailed AggregationCancelled(by the requester)";
    }

    /// <summary>The requester died first: nobody is answered.</summary>
    public sealed record NoReply : Expected
    {
        public override string ToString() => "no reply (the requester died first)";
    }
}

/// <summary>
/// The reference model: a few lines that say which event decides a request. Timed events of a request never share a time
/// (the generator spaces them by <see cref="Scenario.Gap"/>), so the first of them is unambiguous; only the fetchers that fail
/// at time zero can tie, and any of them is then a correct first cause.
/// </summary>
public static class ReferenceModel
{
    public static Expected Expect(RequestCase request)
    {
        var immediate = request.Fetchers
            .Where(f => f.Behaviour is Behaviour.ThrowsBeforeFirstAwait or Behaviour.ReturnsNullTask)
            .Select(f => f.Name).ToList();
        if (immediate.Count > 0) return new Expected.FetcherFails(immediate);

        var events = new List<(TimeSpan At, Func<Expected?> Decide)>();
        var succeeded = new HashSet<int>();
        var canSucceed = request.Fetchers.All(f => f.Behaviour == Behaviour.Succeeds);
        foreach (var fetcher in request.Fetchers)
        {
            if (fetcher.Behaviour == Behaviour.Faults)
                events.Add((fetcher.At!.Value, () => new Expected.FetcherFails([fetcher.Name])));
            else if (fetcher.Behaviour == Behaviour.Succeeds)
                events.Add((fetcher.At!.Value, () =>
                {
                    succeeded.Add(fetcher.Index);
                    return canSucceed && succeeded.Count == request.Fetchers.Count ? new Expected.Succeeds(Join(request)) : null;
                }));
        }
        events.Add((request.Deadline, () => new Expected.DeadlineExceeded(
            request.Fetchers.Where(f => !succeeded.Contains(f.Index)).Select(f => f.Name).ToList())));
        if (request.Interruption == Interruption.Cancel) events.Add((request.InterruptAt!.Value, () => new Expected.Cancelled()));
        if (request.Interruption == Interruption.RequesterDies) events.Add((request.InterruptAt!.Value, () => new Expected.NoReply()));

        foreach (var (_, decide) in events.OrderBy(e => e.At))
            if (decide() is { } decided) return decided;
        throw new InvalidOperationException("unreachable: the deadline always decides");
    }

    /// <summary>The default combination: each part's text joined with " | " in declared order, a null part as empty text.</summary>
    public static string Join(RequestCase request) =>
        string.Join(" | ", request.Fetchers.Select(f => f.NullPart ? "" : PartOf(f)));

    public static string PartOf(FetcherCase fetcher) => $"part {fetcher.Index}";
}
