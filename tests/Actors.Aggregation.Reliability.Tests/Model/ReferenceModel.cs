namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>A fetcher's final failure: who, after how many attempts, and what its last attempt did (which says which exception).</summary>
public sealed record Failure(string Fetcher, int Attempts, Behaviour Kind)
{
    public override string ToString() => $"{Fetcher}{(Attempts > 1 ? $" after {Attempts} attempts" : "")}";
}

/// <summary>
/// <see cref="Count"/> failures taken from <see cref="Candidates"/>, in any order: failures at time zero (before a first await,
/// a null task) happen together, like two goroutines failing at once. Failures at later times are groups of one, in order.
/// </summary>
public sealed record FailureGroup(IReadOnlyList<Failure> Candidates, int Count)
{
    public override string ToString() =>
        Candidates.Count == 1 ? Candidates[0].ToString() : $"{Count} of {{{string.Join(", ", Candidates)}}} in any order";
}

/// <summary>One part of a <see cref="Expected.Completed"/> reply.</summary>
public sealed record ExpectedPart(string Fetcher, PartStatus Status, string? Value, Failure? Failure, int Attempts)
{
    public override string ToString() => Status switch
    {
        PartStatus.Succeeded => $"{Fetcher}=Succeeded({(Value is null ? "null" : $"\"{Value}\"")}{(Attempts > 1 ? $", {Attempts} attempts" : "")})",
        PartStatus.Failed => $"{Fetcher}=Failed({Failure})",
        _ => $"{Fetcher}={Status}",
    };
}

/// <summary>The one correct reply to a request, as the reference model sees it.</summary>
public abstract record Expected
{
    /// <summary>FailFast: every fetcher succeeded; Quorum: enough did. The present parts' text joined in declared order.</summary>
    public sealed record Succeeds(string Result) : Expected
    {
        public override string ToString() => $"AggregateSucceeded \"{Result}\"";
    }

    /// <summary>
    /// FailFast: a fetcher failed first. Usually exactly one fetcher can be first; fetchers that fail at once (before their
    /// first await, or with a null task) all fail at time zero, and then any of them may be the reported first cause.
    /// </summary>
    public sealed record FetcherFails(IReadOnlyList<Failure> AnyOf) : Expected
    {
        public override string ToString() => $"AggregateFailed FetcherFailed({string.Join(" or ", AnyOf)})";
    }

    /// <summary>Quorum: so many failed that the quorum became unreachable; every failure, in the order they happened.</summary>
    public sealed record QuorumNotReached(int Required, IReadOnlyList<FailureGroup> Failures) : Expected
    {
        public int Count => Failures.Sum(g => g.Count);

        public override string ToString() => $"AggregateFailed QuorumNotReached({Required}; failures: {string.Join(", then ", Failures)})";
    }

    /// <summary>CollectAll: every fetcher finished, or the deadline passed; each part's outcome, in declared order.</summary>
    public sealed record Completed(string Result, IReadOnlyList<ExpectedPart> Parts) : Expected
    {
        public override string ToString() => $"AggregateCompleted \"{Result}\" [{string.Join(", ", Parts)}]";
    }

    /// <summary>The deadline came first; <see cref="Pending"/> had not finished (running, or waiting for a slot).</summary>
    public sealed record DeadlineExceeded(IReadOnlyList<string> Pending) : Expected
    {
        public override string ToString() => $"AggregateFailed DeadlineExceeded(pending: {string.Join(", ", Pending)})";
    }

    /// <summary>The requester's <see cref="CancelAggregate"/> came first.</summary>
    public sealed record Cancelled : Expected
    {
        public override string ToString() => "AggregateFailed AggregationCancelled(by the requester)";
    }

    /// <summary>
    /// Across nodes: the node running the request was lost before the request's reply could cross (silent, or shut down).
    /// The requester's side answers once: <see cref="NodeFailed"/> naming the node when its loss is noticed in time (not
    /// for a partition that heals), <see cref="AggregationCancelled"/> when the node shut its aggregator down and said so
    /// (<see cref="ShutDown"/>), or the front's own <see cref="DeadlineExceeded"/> at the deadline, naming every fetcher
    /// (<see cref="MayDeadline"/>). With <see cref="MayBeNone"/> the requester may die first, and then nobody is answered.
    /// </summary>
    public sealed record NodeLost(string Node, bool Noticed, bool ShutDown, bool MayDeadline, bool MayBeNone) : Expected
    {
        public bool Accepts(AggregationFailure reason, RequestCase request) => reason switch
        {
            NodeFailed failed => Noticed && failed.Node == Node,
            AggregationCancelled cancelled => ShutDown && cancelled.Reason != AggregationCancelled.ByRequester,
            global::Actors.Aggregation.DeadlineExceeded late => MayDeadline && late.Timeout == request.Deadline
                && late.Pending.SequenceEqual(request.Fetchers.Select(f => f.Name)),
            _ => false,
        };

        public override string ToString()
        {
            var answers = new List<string>();
            if (Noticed) answers.Add("NodeFailed");
            if (ShutDown) answers.Add("AggregationCancelled (the node stopped it)");
            if (MayDeadline) answers.Add("DeadlineExceeded (every fetcher pending)");
            return $"one of {string.Join(", ", answers)}{(MayBeNone ? ", or no reply (the requester died)" : "")}";
        }
    }

    /// <summary>The requester died first: nobody is answered.</summary>
    public sealed record NoReply : Expected
    {
        public override string ToString() => "no reply (the requester died first)";
    }
}

/// <summary>
/// Everything the model predicts for a request: the reply, when it is decided (in gaps), which fetchers must and may start,
/// how many attempts each makes (null where a tie at time zero leaves it open), and when each starts.
/// </summary>
public sealed record Prediction(
    Expected Expected,
    int DecisionSlot,
    IReadOnlyList<bool> MustStart,
    IReadOnlyList<bool> MayStart,
    IReadOnlyList<int?> Attempts,
    IReadOnlyList<int?> StartSlots,
    IReadOnlyList<int?> FinishSlots)
{
    /// <summary>The fetchers not finished (running, or waiting for a slot) just after slot <paramref name="slot"/>, before the decision.</summary>
    public IReadOnlyList<string> PendingAfter(int slot, RequestCase request) =>
        request.Fetchers.Where(f => FinishSlots[f.Index] is not { } end || end > slot).Select(f => f.Name).ToList();
}

public enum SourceKind
{
    /// <summary>A timed attempt ends (succeeds or faults) after its duration.</summary>
    AttemptEnd,

    /// <summary>A retry's backoff ends (the next attempt starts), or would end, after a failed attempt.</summary>
    BackoffEnd,

    Deadline,
    Interrupt,
}

/// <summary>A timed event of a request: its timer is its own, so it may land anywhere near its nominal time.</summary>
public readonly record struct Source(SourceKind Kind, int Fetcher = -1, int Attempt = 0);

/// <summary>Two or more timed events in the same slot, at or before the decision: their order would be a coin toss.</summary>
public sealed record Collision(int Slot, IReadOnlyList<Source> Sources);

/// <summary>
/// The reference model: a discrete-event simulation of one request on the gap grid, following the coordinator's rules.
/// <list type="bullet">
/// <item>Fetchers start in declared order, all at time zero, or under a limit of L the first L, then one each time a fetcher
/// finishes (its slot frees a moment later, so the next one starts in the same slot, after it). Durations count from each
/// attempt's start.</item>
/// <item>A failed attempt with budget left retries after its backoff, unless the backoff is not shorter than the time left to
/// the deadline: then the failure is final at once.</item>
/// <item>FailFast decides at the first final failure or once all succeeded; CollectAll once all finished; Quorum(k) once k
/// succeeded, or once fewer than k can; under every policy the deadline, a cancel or the requester's death decide if first.</item>
/// </list>
/// Events that happen "at once" (a start after a slot frees, an attempt that fails before its first await) follow their
/// cause in the same slot, in causal order, which the real system keeps too. Timed events (<see cref="Source"/>) in the same
/// slot would race each other: <see cref="Simulate"/> reports the first such <see cref="Collision"/>, and the generator repairs
/// the request until there is none, so the outcome is never a matter of milliseconds. At time zero, fetchers that fail at once
/// race each other for real; the prediction accepts any of their orders.
/// </summary>
public static class ReferenceModel
{
    private enum Status : byte { Waiting, Running, Succeeded, Failed }

    private enum EventKind : byte { Start, AttemptBegin, AttemptEnd, SlotFree, Deadline, Interrupt }

    private readonly record struct Event(int Slot, EventKind Kind, int Fetcher, int Attempt, Source? Timed);

    public static (Prediction Prediction, Collision? Collision) Simulate(RequestCase request)
    {
        var fetchers = request.Fetchers;
        var n = fetchers.Count;
        var limit = request.EffectiveLimit ?? n;
        var deadline = request.DeadlineSlot;
        var policy = request.Policy;

        var status = new Status[n];
        var attempts = new int[n];
        var startSlots = new int?[n];
        var finishSlots = new int?[n];
        var values = new string?[n];
        var finalFailures = new Failure?[n];
        var failures = new List<(int Slot, Failure Failure)>();
        var timed = new List<(int Slot, Source Source)>();
        Collision? retryAtDeadline = null;
        var queue = new PriorityQueue<Event, (int Slot, long Seq)>();
        long seq = 0;
        int next = 0, alive = 0, succeeded = 0, failed = 0;

        void Add(int slot, EventKind kind, int fetcher = -1, int attempt = 0, Source? source = null) =>
            queue.Enqueue(new Event(slot, kind, fetcher, attempt, source), (slot, seq++));

        void StartNext(int slot)
        {
            if (next >= n || alive >= limit) return;
            alive++;
            Add(slot, EventKind.Start, next++);
        }

        void Begin(int i, int attempt, int slot)
        {
            attempts[i] = attempt;
            var script = fetchers[i].Script[attempt - 1];
            if (script.IsImmediate) Add(slot, EventKind.AttemptEnd, i, attempt);
            else if (script.IsTimed) Add(slot + script.Slots, EventKind.AttemptEnd, i, attempt, new Source(SourceKind.AttemptEnd, i, attempt));
            // A hanging attempt ends only with the request.
        }

        Expected? Evaluate()
        {
            switch (policy.Kind)
            {
                case PolicyKind.FailFast:
                    return succeeded == n ? new Expected.Succeeds(Join(values, status)) : null;
                case PolicyKind.CollectAll:
                    return succeeded + failed == n ? Collected(request, values, status, finalFailures, attempts) : null;
                default:
                    if (succeeded >= policy.Required) return new Expected.Succeeds(Join(values, status));
                    if (n - failed < policy.Required) return new Expected.QuorumNotReached(policy.Required, Groups(failures));
                    return null;
            }
        }

        Expected? End(int i, int attempt, int slot)
        {
            var fetcher = fetchers[i];
            var script = fetcher.Script[attempt - 1];
            if (script.Behaviour == Behaviour.Succeeds)
            {
                status[i] = Status.Succeeded;
                finishSlots[i] = slot;
                succeeded++;
                values[i] = fetcher.NullPart ? null : PartOf(fetcher);
                var decided = Evaluate();
                if (decided is null) Add(slot, EventKind.SlotFree);
                return decided;
            }

            if (fetcher.MayRetryAfter(attempt))
            {
                var backoff = fetcher.Retry!.BackoffAfter(attempt);
                // The library retries only when the backoff is shorter than the time left; equal would be a coin toss.
                if (slot + backoff == deadline)
                    retryAtDeadline ??= new Collision(deadline, [new Source(SourceKind.BackoffEnd, i, attempt), new Source(SourceKind.Deadline)]);
                if (backoff < deadline - slot)
                {
                    Add(slot + backoff, EventKind.AttemptBegin, i, attempt + 1, new Source(SourceKind.BackoffEnd, i, attempt));
                    return null;
                }
            }

            status[i] = Status.Failed;
            finishSlots[i] = slot;
            failed++;
            var failure = new Failure(fetcher.Name, attempt, script.Behaviour);
            finalFailures[i] = failure;
            failures.Add((slot, failure));
            if (policy.Kind == PolicyKind.FailFast) return new Expected.FetcherFails([failure]);
            var outcome = Evaluate();
            if (outcome is null) Add(slot, EventKind.SlotFree);
            return outcome;
        }

        Add(deadline, EventKind.Deadline, source: new Source(SourceKind.Deadline));
        if (request.Interruption != Interruption.None) Add(request.InterruptSlot!.Value, EventKind.Interrupt, source: new Source(SourceKind.Interrupt));
        for (var i = 0; i < limit; i++) StartNext(0);

        Expected? expected = null;
        var at = 0;
        while (expected is null)
        {
            var e = queue.Dequeue();
            at = e.Slot;
            if (e.Timed is { } source) timed.Add((e.Slot, source));
            switch (e.Kind)
            {
                case EventKind.Start:
                    status[e.Fetcher] = Status.Running;
                    startSlots[e.Fetcher] = at;
                    Begin(e.Fetcher, 1, at);
                    break;
                case EventKind.AttemptBegin:
                    Begin(e.Fetcher, e.Attempt, at);
                    break;
                case EventKind.AttemptEnd:
                    expected = End(e.Fetcher, e.Attempt, at);
                    break;
                case EventKind.SlotFree:
                    alive--;
                    StartNext(at);
                    break;
                case EventKind.Deadline:
                    expected = policy.Kind == PolicyKind.CollectAll
                        ? Collected(request, values, status, finalFailures, attempts)
                        : new Expected.DeadlineExceeded(fetchers.Where(f => status[f.Index] is Status.Waiting or Status.Running).Select(f => f.Name).ToList());
                    break;
                case EventKind.Interrupt:
                    expected = request.Interruption == Interruption.Cancel ? new Expected.Cancelled() : new Expected.NoReply();
                    break;
            }
        }

        // Timed events still queued in the decision's slot race the decision itself.
        while (queue.TryDequeue(out var e, out _))
            if (e.Slot <= at && e.Timed is { } source) timed.Add((e.Slot, source));
        var collision = timed
            .Where(t => t.Slot <= at)
            .GroupBy(t => t.Slot)
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.Key)
            .Select(g => new Collision(g.Key, g.Select(t => t.Source).ToList()))
            .FirstOrDefault();
        if (collision is null || (retryAtDeadline is not null && retryAtDeadline.Slot < collision.Slot)) collision = retryAtDeadline ?? collision;

        var started = startSlots.Select(s => s is not null).ToArray();
        var must = started.ToArray();
        var may = started.ToArray();
        var attemptCounts = attempts.Select(a => (int?)a).ToArray();
        if (at == 0 && expected is Expected.FetcherFails or Expected.QuorumNotReached)
            expected = TieAtTimeZero(request, expected, must, may, attemptCounts);

        return (new Prediction(expected, at, must, may, attemptCounts, startSlots, finishSlots), collision);
    }

    /// <summary>
    /// The request failed at time zero, where fetchers that fail at once race each other. FailFast: the first fetchers start,
    /// and the first of them to fail is the cause; the coordinator starts them in declared order and stops starting once the
    /// request has failed, so those declared after the first one that fails at once may or may not start. Quorum: every
    /// fetcher of the first batch starts (nothing else ends the request meanwhile); under a limit, each failure frees a slot
    /// for the next, so which of those start before the quorum is known unreachable, and which failures are reported, is open.
    /// </summary>
    private static Expected TieAtTimeZero(RequestCase request, Expected expected, bool[] must, bool[] may, int?[] attempts)
    {
        var fetchers = request.Fetchers;
        var n = fetchers.Count;
        var batch = request.EffectiveLimit ?? n;
        bool FailsAtZero(FetcherCase f) =>
            f.Script[0].IsImmediate && !(f.MayRetryAfter(1) && f.Retry!.BackoffAfter(1) < request.DeadlineSlot);
        Failure AtZero(FetcherCase f) => new(f.Name, 1, f.Script[0].Behaviour);

        for (var i = 0; i < n; i++)
        {
            must[i] = may[i] = i < batch;
            attempts[i] = i < batch ? 1 : 0;
        }

        if (expected is Expected.FetcherFails)
        {
            var candidates = fetchers.Take(batch).Where(FailsAtZero).ToList();
            var first = candidates[0].Index;
            for (var i = first + 1; i < batch; i++)
            {
                must[i] = false;
                attempts[i] = null;
            }
            return new Expected.FetcherFails(candidates.Select(AtZero).ToList());
        }

        // Quorum: the slots the first batch's immediate failures free start the next fetchers, at once, in declared order.
        var started = fetchers.Take(batch).ToList();
        var frees = started.Count(FailsAtZero);
        for (var i = batch; i < n && frees > 0; i++)
        {
            frees--;
            started.Add(fetchers[i]);
            may[i] = true;
            attempts[i] = null;
            if (FailsAtZero(fetchers[i])) frees++;
        }
        var quorum = (Expected.QuorumNotReached)expected;
        return quorum with { Failures = [new FailureGroup(started.Where(FailsAtZero).Select(AtZero).ToList(), quorum.Count)] };
    }

    private static List<FailureGroup> Groups(List<(int Slot, Failure Failure)> failures)
    {
        var groups = new List<FailureGroup>();
        var atZero = failures.Where(f => f.Slot == 0).Select(f => f.Failure).ToList();
        if (atZero.Count > 0) groups.Add(new FailureGroup(atZero, atZero.Count));
        groups.AddRange(failures.Where(f => f.Slot > 0).Select(f => new FailureGroup([f.Failure], 1)));
        return groups;
    }

    private static Expected.Completed Collected(RequestCase request, string?[] values, Status[] status, Failure?[] failures, int[] attempts)
    {
        var parts = request.Fetchers.Select(f => status[f.Index] switch
        {
            Status.Succeeded => new ExpectedPart(f.Name, PartStatus.Succeeded, values[f.Index], null, attempts[f.Index]),
            Status.Failed => new ExpectedPart(f.Name, PartStatus.Failed, null, failures[f.Index], attempts[f.Index]),
            Status.Running => new ExpectedPart(f.Name, PartStatus.TimedOut, null, null, attempts[f.Index]),
            _ => new ExpectedPart(f.Name, PartStatus.NotStarted, null, null, 0),
        }).ToList();
        return new Expected.Completed(Join(values, status), parts);
    }

    /// <summary>The default combination: each present part's text joined with " | " in declared order, a null part as empty text.</summary>
    private static string Join(string?[] values, Status[] status) =>
        string.Join(" | ", values.Where((_, i) => status[i] == Status.Succeeded).Select(v => v ?? ""));

    public static string PartOf(FetcherCase fetcher) => $"part {fetcher.Index}";
}
