using System.Collections.Concurrent;
using System.Text;
using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Actors.Aggregation.Testing;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>A difference between what the library did and what the reference model says, for one scenario.</summary>
public sealed class ModelViolation(string message) : Exception(message);

/// <summary>
/// Runs one generated <see cref="Scenario"/> against real aggregators and checks it against the reference model:
/// each request gets exactly the predicted reply (none where its requester died); exactly the predicted fetchers started,
/// each making the predicted number of attempts; once quiet, no coordinator or fetcher actor is alive and no fetch still
/// runs; every started fetch saw its token fire; the abandoned fetches are exactly the token-ignoring ones started; no dead
/// letter involves the aggregators or requesters; no unobserved task exception names the scenario.
/// Many scenarios run at once (CsCheck's threads), each on its own aggregators (one per definition its requests use).
/// </summary>
internal sealed class ScenarioRunner(
    ActorSystem system,
    DeadLetterLog deadLetters,
    UnobservedTaskExceptions unobserved,
    Func<RequestCase, AggregationDefinition<RequestRun, string>> definitionFor,
    TimeSpan quietMargin,
    StallMonitor? stalls = null,
    FaultInjection? faults = null)
{
    private readonly StallRetry _retry = new(stalls);

    /// <summary>Scenarios whose failing run was voided and run again because the whole process stalled meanwhile.</summary>
    public IReadOnlyCollection<string> Voided => _retry.Voided;

    /// <summary>Read once: reading settings from a system re-merges its whole configuration, too slow to do per aggregator.</summary>
    private readonly AggregationSettings _settings = AggregationSettings.Create(system);

    private static int _scenarios;
    private readonly ConcurrentDictionary<string, int> _outcomes = new();

    /// <summary>How many requests expected each kind of reply, over every scenario run.</summary>
    public IReadOnlyDictionary<string, int> Outcomes => _outcomes;

    public int Requests => _outcomes.Values.Sum();

    private readonly ConcurrentDictionary<string, int> _shapes = new();
    private readonly ConcurrentQueue<double> _lateness = new();

    public void ResetOutcomes()
    {
        _outcomes.Clear();
        _shapes.Clear();
        _lateness.Clear();
        _retry.Clear();
    }

    private int _formerWatcherNotifications;

    /// <summary>Dead letters tolerated as Akka's own (see <see cref="DeadLetterLog.IsAkkaFormerWatcherNotification"/>).</summary>
    public int FormerWatcherNotifications => Volatile.Read(ref _formerWatcherNotifications);

    /// <summary>Runs the scenario and checks it; a failing run during a freeze of the whole process is void (see <see cref="StallRetry"/>).</summary>
    public Task RunAsync(Scenario scenario) => _retry.RunAsync(() => RunOnceAsync(scenario));

    private async Task RunOnceAsync(Scenario scenario)
    {
        var id = $"s{Interlocked.Increment(ref _scenarios)}";
        var aggregators = new Dictionary<string, IActorRef>();
        var runs = scenario.Requests.Select(r => new RequestRun(r, $"{id}-r{r.Number}")).ToList();
        try
        {
            foreach (var request in scenario.Requests)
                if (!aggregators.ContainsKey(request.DefinitionKey))
                    aggregators[request.DefinitionKey] = system.ActorOf(AggregatorActor.Props(definitionFor(request), _settings, faults), $"{id}-a{aggregators.Count}");
            foreach (var run in runs) run.Requester = system.ActorOf(Requester.Props(run), $"{id}-requester{run.Case.Number}");
            // Every actor answers once before the clock starts, so the scenario's times count from a running system.
            foreach (var aggregator in aggregators.Values) await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
            foreach (var run in runs) await run.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));

            // Interruptions may come after the request was decided (a late cancel, a requester dying after its reply): those must be harmless too.
            var interruptions = Task.WhenAll(runs.Select(run => Start(run, aggregators[run.Case.DefinitionKey])).ToList());

            var violations = new List<string>();
            var decideWithin = scenario.Horizon + quietMargin;
            foreach (var run in runs.Where(r => r.Case.Expected is not Expected.NoReply))
            {
                try
                {
                    await run.FirstReply.WaitAsync(decideWithin);
                }
                catch (TimeoutException)
                {
                    violations.Add($"{Name(run)}: no reply within {decideWithin.TotalMilliseconds:0} ms; expected {run.Case.Expected}");
                }
            }

            await interruptions;

            // Quiet: nothing in flight, no fetcher actor, no fetch running. Throws AggregationLeakException naming what is left.
            foreach (var aggregator in aggregators.Values)
                await AggregationAssert.NoLeaksAsync(aggregator, scenario.Horizon + Scenario.IgnorerTail + quietMargin);

            foreach (var run in runs) await CheckRequestAsync(run, violations, run.Case.Expected, schedule: true);
            foreach (var (key, aggregator) in aggregators) await CheckAggregatorAsync(aggregator, runs.Where(r => r.Case.DefinitionKey == key).ToList(), violations);

            var paths = aggregators.Values.Concat(runs.Select(r => r.Requester)).Select(a => a.Path);
            foreach (var letter in await deadLetters.InvolvingAsync(paths))
                if (DeadLetterLog.IsAkkaFormerWatcherNotification(letter, runs.Select(r => r.Requester))) Interlocked.Increment(ref _formerWatcherNotifications);
                else violations.Add($"dead letter: {letter.Message.GetType().Name} from {letter.Sender.Path} to {letter.Recipient.Path}: {letter.Message}");

            foreach (var e in unobserved.SeenSoFar.Where(e => e.Message.Contains(id + "-", StringComparison.Ordinal)))
                violations.Add($"unobserved task exception: {e.GetType().Name}: {e.Message}");

            if (violations.Count > 0) throw new ModelViolation(string.Join("\n", violations));
            foreach (var run in runs)
            {
                _outcomes.AddOrUpdate(run.Case.Expected.GetType().Name, 1, (_, c) => c + 1);
                foreach (var shape in Shapes(run.Case)) _shapes.AddOrUpdate(shape, 1, (_, c) => c + 1);
                if (run.Replies is [IAggregateReply reply])
                    _lateness.Enqueue((reply.Elapsed - Scenario.Gap * run.Case.Prediction.DecisionSlot).TotalMilliseconds);
            }
        }
        finally
        {
            foreach (var aggregator in aggregators.Values) system.Stop(aggregator);
            foreach (var run in runs) system.Stop(run.Requester);
        }
    }

    /// <summary>Sends the request, and schedules its interruption; the returned task completes once the interruption happened.</summary>
    private Task Start(RequestRun run, IActorRef aggregator)
    {
        var request = run.Case;
        aggregator.Tell(new Aggregate<RequestRun>(run) { RequestId = run.RequestId, Timeout = request.Deadline }, run.Requester);
        if (request.Interruption == Interruption.None) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(request.InterruptAt!.Value, () =>
        {
            if (request.Interruption == Interruption.Cancel)
            {
                aggregator.Tell(new CancelAggregate(run.RequestId), run.Requester); // only the requester may cancel its request
            }
            else
            {
                run.RequesterStopped = true;
                system.Stop(run.Requester);
            }
            done.SetResult();
        });
        return done.Task;
    }

    /// <summary>
    /// Checks one request's replies against <paramref name="expected"/> and, with <paramref name="schedule"/>, its fetchers'
    /// starts and attempts against the model; whatever happened, every started fetch saw its token fire and none still runs.
    /// </summary>
    internal static async Task CheckRequestAsync(RequestRun run, List<string> violations, Expected expected, bool schedule)
    {
        // A flush proves that every reply sent before the system went quiet has been recorded.
        if (!run.RequesterStopped) await run.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));
        var replies = run.Replies;
        if (expected is Expected.NoReply || (expected is Expected.NodeLost { MayBeNone: true } && replies.Count == 0))
        {
            if (replies.Count > 0) violations.Add($"{Name(run)}: expected {expected}, got {string.Join(", ", replies.Select(Describe))}");
        }
        else if (replies.Count != 1)
        {
            violations.Add($"{Name(run)}: expected exactly one reply ({expected}), got {replies.Count}: {string.Join(", ", replies.Select(Describe))}");
        }
        else if (Mismatch(run, expected, replies[0]) is { } mismatch)
        {
            violations.Add($"{Name(run)}: expected {expected}, got {Describe(replies[0])}{mismatch}");
        }

        var prediction = run.Case.Prediction;
        foreach (var fetcher in schedule ? run.Case.Fetchers : [])
        {
            var i = fetcher.Index;
            var attempts = run.AttemptsOf(i);
            if (prediction.MustStart[i] && attempts == 0) violations.Add($"{Name(run)}: {fetcher.Name} never started, but it must");
            else if (!prediction.MayStart[i] && attempts > 0) violations.Add($"{Name(run)}: {fetcher.Name} started ({attempts} attempt(s)), but it must not");
            else if (attempts > 0 && prediction.Attempts[i] is { } predicted && attempts != predicted)
                violations.Add($"{Name(run)}: {fetcher.Name} made {attempts} attempt(s), expected {predicted}");
        }
        if (run.TokensFired != run.Started) violations.Add($"{Name(run)}: {run.TokensFired} of {run.Started} started fetches saw their token fire");
        if (run.Running != 0) violations.Add($"{Name(run)}: {run.Running} fetch(es) still running once quiet");
    }

    internal static async Task CheckAggregatorAsync(IActorRef aggregator, List<RequestRun> runs, List<string> violations)
    {
        var stats = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
        var ignorers = runs.Sum(r => r.IgnorersStarted);
        var expected = new AggregatorStats(0, 0, 0, ignorers, runs.Count, 0);
        if (stats != expected) violations.Add($"{aggregator.Path.Name}: stats {stats}, expected {expected}");
        // The actor tree itself, not the library's counters: no coordinator or fetcher actor is left.
        var children = aggregator is ActorRefWithCell cell ? cell.Children.Select(c => c.Path.ToStringWithoutAddress()).ToList() : [];
        if (children.Count > 0) violations.Add($"{aggregator.Path.Name}: actors still alive: {string.Join(", ", children)}");
    }

    /// <summary>
    /// Why <paramref name="reply"/> is not <paramref name="expected"/> (null when it is). A coalesced request has an id and a
    /// deadline of its own (<paramref name="requestId"/>, <paramref name="deadline"/>); its scripted failures name the run.
    /// </summary>
    internal static string? Mismatch(RequestRun run, Expected expected, object reply, string? requestId = null, TimeSpan? deadline = null)
    {
        if (reply is not IAggregateReply { RequestId: var id } || id != (requestId ?? run.RequestId)) return $" (request id {(reply as IAggregateReply)?.RequestId})";
        switch (expected, reply)
        {
            case (Expected.Succeeds s, AggregateSucceeded<string> ok):
                return ok.Result == s.Result ? null : "";
            case (Expected.FetcherFails f, AggregateFailed { Reason: FetcherFailed failed }):
                return f.AnyOf.FirstOrDefault(x => x.Fetcher == failed.Fetcher) is { } script
                    ? CauseMismatch(run, script, failed.Exception, failed.Attempts)
                    : "";
            case (Expected.QuorumNotReached q, AggregateFailed { Reason: QuorumNotReached quorum }):
                return quorum.Required == q.Required ? FailuresMismatch(run, q, quorum.Failures) : $" (required {quorum.Required})";
            case (Expected.Completed c, AggregateCompleted<string> completed):
                return PartsMismatch(run, c, completed);
            case (Expected.DeadlineExceeded d, AggregateFailed { Reason: DeadlineExceeded late }):
                return late.Pending.SequenceEqual(d.Pending) && late.Timeout == (deadline ?? run.Case.Deadline) ? null : "";
            case (Expected.Cancelled, AggregateFailed { Reason: AggregationCancelled { Reason: AggregationCancelled.ByRequester } }):
                return null;
            case (Expected.NodeLost lost, AggregateFailed { Reason: var reason }):
                return lost.Accepts(reason, run.Case) ? null : "";
            default:
                return "";
        }
    }

    /// <summary>Whether a reported failure is the scripted one: the exception its final attempt throws, and the attempt count.</summary>
    private static string? CauseMismatch(RequestRun run, Failure script, Exception? exception, int attempts)
    {
        // On another node the exception arrives as data: the same type name and message.
        var (type, message) = exception is RemoteException remote ? (remote.TypeName, remote.Message) : (exception?.GetType().FullName, exception?.Message);
        var causeOk = script.Kind switch
        {
            Behaviour.Faults => type == typeof(ScriptedFault).FullName && message == Scripted.Faulted(script.Fetcher, run.RequestId, script.Attempts),
            Behaviour.ThrowsBeforeFirstAwait => type == typeof(ScriptedFault).FullName && message == Scripted.Threw(script.Fetcher, run.RequestId, script.Attempts),
            Behaviour.ReturnsNullTask => type == typeof(InvalidOperationException).FullName && message?.Contains("null Task", StringComparison.Ordinal) == true,
            _ => false,
        };
        if (!causeOk) return $" ({script.Fetcher}'s cause {exception?.GetType().Name}: {exception?.Message})";
        return attempts == script.Attempts ? null : $" ({script.Fetcher}: {attempts} attempt(s) reported, expected {script.Attempts})";
    }

    /// <summary>Every failure, group by group; within a group (failures at time zero) any of its candidates, in any order.</summary>
    private static string? FailuresMismatch(RequestRun run, Expected.QuorumNotReached expected, IReadOnlyList<FetcherFailed> failures)
    {
        if (failures.Count != expected.Count) return $" ({failures.Count} failures: {string.Join(", ", failures.Select(f => f.Fetcher))})";
        var position = 0;
        foreach (var group in expected.Failures)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < group.Count; i++, position++)
            {
                var failure = failures[position];
                if (group.Candidates.FirstOrDefault(c => c.Fetcher == failure.Fetcher) is not { } script || !seen.Add(failure.Fetcher))
                    return $" (failure #{position + 1} is {failure.Fetcher}; failures: {string.Join(", ", failures.Select(f => f.Fetcher))})";
                if (CauseMismatch(run, script, failure.Exception, failure.Attempts) is { } mismatch) return mismatch;
            }
        }
        return null;
    }

    /// <summary>CollectAll: the result, and each part in declared order: status, value or error, attempts.</summary>
    private static string? PartsMismatch(RequestRun run, Expected.Completed expected, AggregateCompleted<string> completed)
    {
        if (completed.Result != expected.Result) return "";
        if (completed.Parts.Count != expected.Parts.Count) return $" ({completed.Parts.Count} parts)";
        for (var i = 0; i < expected.Parts.Count; i++)
        {
            var (want, got) = (expected.Parts[i], completed.Parts[i]);
            if (got.Fetcher != want.Fetcher || got.Status != want.Status) return $" (part {i}: {got.Fetcher}={got.Status})";
            var valueOk = want.Status == PartStatus.Succeeded ? Equals(got.Value, want.Value) : got.Value is null;
            if (!valueOk || (want.Status != PartStatus.Failed && got.Error is not null))
                return $" (part {got.Fetcher}: value {got.Value ?? "null"}, error {got.Error?.Message})";
            if (want.Status == PartStatus.Failed && CauseMismatch(run, want.Failure!, got.Error, got.Attempts) is { } cause) return cause;
            if (want.Status != PartStatus.Failed && got.Attempts != want.Attempts)
                return $" (part {got.Fetcher}: {got.Attempts} attempt(s) reported, expected {want.Attempts})";
        }
        return null;
    }

    internal static string Name(RequestRun run) => $"request #{run.Case.Number} ({run.RequestId})";

    internal static string Describe(object reply) => reply switch
    {
        AggregateSucceeded<string> ok => $"AggregateSucceeded \"{ok.Result}\" after {ok.Elapsed.TotalMilliseconds:0} ms",
        AggregateFailed failed => $"AggregateFailed {failed.Reason.Describe()} after {failed.Elapsed.TotalMilliseconds:0} ms",
        AggregateCompleted<string> completed => $"AggregateCompleted \"{completed.Result}\" [{string.Join(", ", completed.Parts.Select(DescribePart))}] after {completed.Elapsed.TotalMilliseconds:0} ms",
        _ => reply.ToString() ?? "null",
    };

    private static string DescribePart(PartOutcome part) => part.Status switch
    {
        PartStatus.Succeeded => $"{part.Fetcher}=Succeeded({(part.Value is null ? "null" : $"\"{part.Value}\"")}, {part.Attempts} attempt(s))",
        PartStatus.Failed => $"{part.Fetcher}=Failed({part.Error?.GetType().Name}: {part.Error?.Message}, {part.Attempts} attempt(s))",
        _ => $"{part.Fetcher}={part.Status}",
    };

    public string DescribeOutcomes() => DescribeCounts(_outcomes);

    /// <summary>How many requests had each policy, a limit, retries.</summary>
    public string DescribeShapes() => DescribeCounts(_shapes);

    /// <summary>How much later than the model's decision time the replies came (the model's time is nominal, on the gap grid).</summary>
    public string DescribeLateness()
    {
        var lateness = _lateness.ToArray();
        if (lateness.Length == 0) return "no replies";
        Array.Sort(lateness);
        return $"reply time minus the model's: median {lateness[lateness.Length / 2]:0} ms, p99 {lateness[(int)(lateness.Length * 0.99)]:0} ms, "
            + $"max {lateness[^1]:0} ms, min {lateness[0]:0} ms ({lateness.Length} replies; half a gap is {Scenario.Gap.TotalMilliseconds / 2:0} ms)";
    }

    private static string DescribeCounts(ConcurrentDictionary<string, int> counts)
    {
        var text = new StringBuilder();
        foreach (var (kind, count) in counts.OrderByDescending(o => o.Value))
            text.Append(kind).Append(' ').Append(count).Append(", ");
        return text.ToString().TrimEnd(',', ' ');
    }

    private static IEnumerable<string> Shapes(RequestCase request)
    {
        yield return request.Policy.Kind == PolicyKind.Quorum ? request.Policy.Required == 1 ? "FirstSuccess" : "Quorum(k)" : request.Policy.ToString();
        if (request.EffectiveLimit is not null) yield return "limited";
        if (request.Fetchers.Any(f => f.Retry is not null)) yield return "with retries";
    }
}
