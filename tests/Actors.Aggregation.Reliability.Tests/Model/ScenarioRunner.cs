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
/// each request gets exactly the predicted reply (none where its requester died); once quiet, no coordinator or fetcher
/// actor is alive and no fetch still runs; every started fetch saw its token fire; the abandoned fetches are exactly the
/// token-ignoring ones; no dead letter involves the aggregators or requesters; no unobserved task exception names the scenario.
/// Many scenarios run at once (CsCheck's threads), each on its own aggregators.
/// </summary>
internal sealed class ScenarioRunner(
    ActorSystem system,
    DeadLetterLog deadLetters,
    UnobservedTaskExceptions unobserved,
    Func<int, AggregationDefinition<RequestRun, string>> definitionFor,
    TimeSpan quietMargin,
    StallMonitor? stalls = null,
    FaultInjection? faults = null)
{
    /// <summary>Attempts per scenario when the process itself froze while it ran (see <see cref="RunAsync"/>).</summary>
    private const int Attempts = 3;

    private readonly ConcurrentQueue<string> _voided = new();

    /// <summary>Scenarios whose failing run was voided and run again because the whole process stalled meanwhile.</summary>
    public IReadOnlyCollection<string> Voided => _voided;

    /// <summary>Read once: reading settings from a system re-merges its whole configuration, too slow to do per aggregator.</summary>
    private readonly AggregationSettings _settings = AggregationSettings.Create(system);

    private static int _scenarios;
    private readonly ConcurrentDictionary<string, int> _outcomes = new();

    /// <summary>How many requests expected each kind of reply, over every scenario run.</summary>
    public IReadOnlyDictionary<string, int> Outcomes => _outcomes;

    public int Requests => _outcomes.Values.Sum();

    public void ResetOutcomes()
    {
        _outcomes.Clear();
        _voided.Clear();
    }

    private int _formerWatcherNotifications;

    /// <summary>Dead letters tolerated as Akka's own (see <see cref="DeadLetterLog.IsAkkaFormerWatcherNotification"/>).</summary>
    public int FormerWatcherNotifications => Volatile.Read(ref _formerWatcherNotifications);

    /// <summary>
    /// Runs the scenario and checks it. The model's timing assumes the process gets to run: events of a request are
    /// <see cref="Scenario.Gap"/> apart, and a freeze of the whole process (measured by <paramref name="stalls"/>: a 10 ms
    /// timer waking up late) longer than half of that can reorder them. A failing run during which such a freeze happened is
    /// therefore void, and the scenario runs again, at most <see cref="Attempts"/> times in all; a real bug fails every time.
    /// </summary>
    public async Task RunAsync(Scenario scenario)
    {
        for (var attempt = 1; ; attempt++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await RunOnceAsync(scenario);
                return;
            }
            catch (Exception e) when (attempt < Attempts
                && stalls?.StalledBetween(started, System.Diagnostics.Stopwatch.GetTimestamp(), Scenario.Gap / 2) is { } stall)
            {
                _voided.Enqueue($"voided after a {stall.TotalMilliseconds:0} ms stall of the whole process: {e.Message.Split('\n')[0]}");
            }
        }
    }

    private async Task RunOnceAsync(Scenario scenario)
    {
        var id = $"s{Interlocked.Increment(ref _scenarios)}";
        var aggregators = new Dictionary<int, IActorRef>();
        var runs = scenario.Requests.Select(r => new RequestRun(r, $"{id}-r{r.Number}")).ToList();
        try
        {
            foreach (var n in scenario.Requests.Select(r => r.Fetchers.Count).Distinct())
                aggregators[n] = system.ActorOf(AggregatorActor.Props(definitionFor(n), _settings, faults), $"{id}-n{n}");
            foreach (var run in runs) run.Requester = system.ActorOf(Requester.Props(run), $"{id}-requester{run.Case.Number}");
            // Every actor answers once before the clock starts, so the scenario's times count from a running system.
            foreach (var aggregator in aggregators.Values) await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
            foreach (var run in runs) await run.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));

            // Interruptions may come after the request was decided (a late cancel, a requester dying after its reply): those must be harmless too.
            var interruptions = Task.WhenAll(runs.Select(run => Start(run, aggregators[run.Case.Fetchers.Count])).ToList());

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

            foreach (var run in runs) await CheckRequestAsync(run, violations);
            foreach (var (n, aggregator) in aggregators) await CheckAggregatorAsync(aggregator, runs.Where(r => r.Case.Fetchers.Count == n).ToList(), violations);

            var paths = aggregators.Values.Concat(runs.Select(r => r.Requester)).Select(a => a.Path);
            foreach (var letter in await deadLetters.InvolvingAsync(paths))
                if (DeadLetterLog.IsAkkaFormerWatcherNotification(letter, runs.Select(r => r.Requester))) Interlocked.Increment(ref _formerWatcherNotifications);
                else violations.Add($"dead letter: {letter.Message.GetType().Name} from {letter.Sender.Path} to {letter.Recipient.Path}: {letter.Message}");

            foreach (var e in unobserved.SeenSoFar.Where(e => e.Message.Contains(id + "-", StringComparison.Ordinal)))
                violations.Add($"unobserved task exception: {e.GetType().Name}: {e.Message}");

            if (violations.Count > 0) throw new ModelViolation(string.Join("\n", violations));
            foreach (var run in runs) _outcomes.AddOrUpdate(run.Case.Expected.GetType().Name, 1, (_, c) => c + 1);
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

    private static async Task CheckRequestAsync(RequestRun run, List<string> violations)
    {
        // A flush proves that every reply sent before the system went quiet has been recorded.
        if (!run.RequesterStopped) await run.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));
        var expected = run.Case.Expected;
        var replies = run.Replies;
        if (expected is Expected.NoReply)
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

        var n = run.Case.Fetchers.Count;
        // All fetchers start at once, except that once a fetcher has failed before its first await (or returned a null
        // task), the request is decided and the coordinator starts no more: later-declared ones may never start.
        var failsAtOnce = run.Case.Fetchers.Any(f => f.Behaviour is Behaviour.ThrowsBeforeFirstAwait or Behaviour.ReturnsNullTask);
        if (failsAtOnce ? run.Started is < 1 || run.Started > n : run.Started != n)
            violations.Add($"{Name(run)}: {run.Started} of {n} fetches started");
        if (run.TokensFired != run.Started) violations.Add($"{Name(run)}: {run.TokensFired} of {run.Started} started fetches saw their token fire");
        if (run.Running != 0) violations.Add($"{Name(run)}: {run.Running} fetch(es) still running once quiet");
    }

    private static async Task CheckAggregatorAsync(IActorRef aggregator, List<RequestRun> runs, List<string> violations)
    {
        var stats = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
        var ignorers = runs.Sum(r => r.IgnorersStarted);
        var expected = new AggregatorStats(0, 0, 0, ignorers, runs.Count, 0);
        if (stats != expected) violations.Add($"{aggregator.Path.Name}: stats {stats}, expected {expected}");
        // The actor tree itself, not the library's counters: no coordinator or fetcher actor is left.
        var children = aggregator is ActorRefWithCell cell ? cell.Children.Select(c => c.Path.ToStringWithoutAddress()).ToList() : [];
        if (children.Count > 0) violations.Add($"{aggregator.Path.Name}: actors still alive: {string.Join(", ", children)}");
    }

    private static string? Mismatch(RequestRun run, Expected expected, object reply)
    {
        if (reply is not IAggregateReply { RequestId: var id } || id != run.RequestId) return $" (request id {(reply as IAggregateReply)?.RequestId})";
        switch (expected, reply)
        {
            case (Expected.Succeeds s, AggregateSucceeded<string> ok):
                return ok.Result == s.Result ? null : "";
            case (Expected.FetcherFails f, AggregateFailed { Reason: FetcherFailed failed }):
                if (!f.AnyOf.Contains(failed.Fetcher)) return "";
                var script = run.Case.Fetchers.Single(x => x.Name == failed.Fetcher);
                var causeOk = script.Behaviour switch
                {
                    Behaviour.Faults => failed.Exception is ScriptedFault { Message: var m } && m == $"{script.Name} of {run.RequestId} faulted",
                    Behaviour.ThrowsBeforeFirstAwait => failed.Exception is ScriptedFault { Message: var m } && m.EndsWith("threw before its first await", StringComparison.Ordinal),
                    Behaviour.ReturnsNullTask => failed.Exception is InvalidOperationException { Message: var m } && m.Contains("null Task", StringComparison.Ordinal),
                    _ => false,
                };
                return causeOk ? null : $" (cause {failed.Exception.GetType().Name}: {failed.Exception.Message})";
            case (Expected.DeadlineExceeded d, AggregateFailed { Reason: DeadlineExceeded late }):
                return late.Pending.SequenceEqual(d.Pending) && late.Timeout == run.Case.Deadline ? null : "";
            case (Expected.Cancelled, AggregateFailed { Reason: AggregationCancelled { Reason: AggregationCancelled.ByRequester } }):
                return null;
            default:
                return "";
        }
    }

    private static string Name(RequestRun run) => $"request #{run.Case.Number} ({run.RequestId})";

    private static string Describe(object reply) => reply switch
    {
        AggregateSucceeded<string> ok => $"AggregateSucceeded \"{ok.Result}\" after {ok.Elapsed.TotalMilliseconds:0} ms",
        AggregateFailed failed => $"AggregateFailed {failed.Reason.Describe()} after {failed.Elapsed.TotalMilliseconds:0} ms",
        _ => reply.ToString() ?? "null",
    };

    public string DescribeOutcomes()
    {
        var text = new StringBuilder();
        foreach (var (kind, count) in _outcomes.OrderByDescending(o => o.Value))
            text.Append(kind).Append(' ').Append(count).Append(", ");
        return text.ToString().TrimEnd(',', ' ');
    }
}
