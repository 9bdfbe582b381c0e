using System.Collections.Concurrent;
using Actors.Aggregation.Reliability.Tests.Support;
using Actors.Aggregation.Testing;
using Akka.Actor;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// Runs one <see cref="CoalescedScenario"/> on a fresh aggregator with <c>WithCoalescing()</c> and checks it against the model:
/// every requester gets exactly its predicted reply, with its own id (none where it died first); the fetchers ran once for
/// the whole group, as the model schedules the run (or, when every requester left first, no fetcher started after that);
/// once quiet, nothing is left running, every started fetch saw its token fire, and the stats count each request, the
/// coalesced ones and the abandoned fetches; no dead letter involves the aggregator or a requester.
/// </summary>
internal sealed class CoalescedRunner(
    ActorSystem system,
    DeadLetterLog deadLetters,
    UnobservedTaskExceptions unobserved,
    Definitions definitions,
    TimeSpan quietMargin,
    StallMonitor? stalls = null)
{
    private readonly StallRetry _retry = new(stalls);
    private readonly AggregationSettings _settings = AggregationSettings.Create(system);
    private readonly ConcurrentDictionary<string, int> _outcomes = new();
    private static int _scenarios;
    private int _abandoned;

    public IReadOnlyCollection<string> Voided => _retry.Voided;

    public int Requests => _outcomes.Values.Sum();

    /// <summary>Scenarios whose every requester left before the run decided.</summary>
    public int Abandoned => Volatile.Read(ref _abandoned);

    public string DescribeOutcomes() =>
        string.Join(", ", _outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"));

    public Task RunAsync(CoalescedScenario scenario) => _retry.RunAsync(() => RunOnceAsync(scenario));

    private async Task RunOnceAsync(CoalescedScenario scenario)
    {
        var id = $"c{Interlocked.Increment(ref _scenarios)}";
        var run = new RequestRun(scenario.Run, $"{id}-run");
        var joiners = scenario.Joiners.Select(j => new JoinerRun(j, $"{id}-r{j.Number}")).ToList();
        var aggregator = system.ActorOf(AggregatorActor.Props(definitions.For(scenario.Run), _settings), $"{id}-a");
        try
        {
            foreach (var joiner in joiners) joiner.Requester = system.ActorOf(Requester.Props(joiner), $"{id}-requester{joiner.Case.Number}");
            await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
            foreach (var joiner in joiners) await joiner.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));

            // All at once, for the one key (the run's script): the first starts the run, the others join it.
            foreach (var joiner in joiners)
                aggregator.Tell(new Aggregate<RequestRun>(run) { RequestId = joiner.RequestId, Timeout = joiner.Case.Deadline }, joiner.Requester);
            var interruptions = Task.WhenAll(joiners.Select(j => Interrupt(j, aggregator)).ToList());

            var violations = new List<string>();
            var decideWithin = scenario.Horizon + quietMargin;
            foreach (var joiner in joiners.Where(j => scenario.ExpectedFor(j.Case) is not Expected.NoReply))
            {
                try
                {
                    await joiner.FirstReply.WaitAsync(decideWithin);
                }
                catch (TimeoutException)
                {
                    violations.Add($"requester #{joiner.Case.Number}: no reply within {decideWithin.TotalMilliseconds:0} ms; expected {scenario.ExpectedFor(joiner.Case)}");
                }
            }
            await interruptions;
            await AggregationAssert.NoLeaksAsync(aggregator, scenario.Horizon + Scenario.IgnorerTail + quietMargin);

            foreach (var joiner in joiners) await CheckReplyAsync(scenario, run, joiner, violations);
            CheckSchedule(scenario, run, violations);
            var stats = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
            var expected = new AggregatorStats(0, 0, 0, run.IgnorersStarted, joiners.Count, 0) { Coalesced = joiners.Count - 1 };
            if (stats != expected) violations.Add($"stats {stats}, expected {expected}");

            foreach (var letter in await deadLetters.InvolvingAsync(joiners.Select(j => j.Requester).Append(aggregator).Select(a => a.Path)))
                if (!DeadLetterLog.IsAkkaFormerWatcherNotification(letter, joiners.Select(j => j.Requester)))
                    violations.Add($"dead letter: {letter.Message.GetType().Name} from {letter.Sender.Path} to {letter.Recipient.Path}: {letter.Message}");
            foreach (var e in unobserved.SeenSoFar.Where(e => e.Message.Contains(id + "-", StringComparison.Ordinal)))
                violations.Add($"unobserved task exception: {e.GetType().Name}: {e.Message}");

            if (violations.Count > 0) throw new ModelViolation(string.Join("\n", violations));
            foreach (var joiner in joiners) _outcomes.AddOrUpdate(scenario.ExpectedFor(joiner.Case).GetType().Name, 1, (_, c) => c + 1);
            if (scenario.Abandoned) Interlocked.Increment(ref _abandoned);
        }
        finally
        {
            system.Stop(aggregator);
            foreach (var joiner in joiners) system.Stop(joiner.Requester);
        }
    }

    private Task Interrupt(JoinerRun joiner, IActorRef aggregator)
    {
        if (joiner.Case.InterruptAt is not { } at) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(at, () =>
        {
            if (joiner.Case.Interruption == Interruption.Cancel)
            {
                aggregator.Tell(new CancelAggregate(joiner.RequestId), joiner.Requester);
            }
            else
            {
                joiner.RequesterStopped = true;
                system.Stop(joiner.Requester);
            }
            done.SetResult();
        });
        return done.Task;
    }

    private static async Task CheckReplyAsync(CoalescedScenario scenario, RequestRun run, JoinerRun joiner, List<string> violations)
    {
        if (!joiner.RequesterStopped) await joiner.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));
        var expected = scenario.ExpectedFor(joiner.Case);
        var replies = joiner.Replies;
        var name = $"requester #{joiner.Case.Number} ({joiner.RequestId})";
        if (expected is Expected.NoReply)
        {
            if (replies.Count > 0) violations.Add($"{name}: expected {expected}, got {string.Join(", ", replies.Select(ScenarioRunner.Describe))}");
        }
        else if (replies.Count != 1)
        {
            violations.Add($"{name}: expected exactly one reply ({expected}), got {replies.Count}: {string.Join(", ", replies.Select(ScenarioRunner.Describe))}");
        }
        else if (ScenarioRunner.Mismatch(run, expected, replies[0], joiner.RequestId, joiner.Case.Deadline) is { } mismatch)
        {
            violations.Add($"{name}: expected {expected}, got {ScenarioRunner.Describe(replies[0])}{mismatch}");
        }
    }

    /// <summary>
    /// The fetchers ran once for the group: as the model schedules the run when it decided; when every requester left first,
    /// those the model starts before that moment started, and none after it.
    /// </summary>
    private static void CheckSchedule(CoalescedScenario scenario, RequestRun run, List<string> violations)
    {
        var prediction = scenario.Run.Prediction;
        foreach (var fetcher in scenario.Run.Fetchers)
        {
            var i = fetcher.Index;
            var attempts = run.AttemptsOf(i);
            var startsBeforeLeaving = prediction.StartSlots[i] is { } start && 2 * start < scenario.LastLeaves;
            var must = prediction.MustStart[i] && (!scenario.Abandoned || startsBeforeLeaving);
            var may = prediction.MayStart[i] && (!scenario.Abandoned || startsBeforeLeaving);
            if (must && attempts == 0) violations.Add($"{fetcher.Name} never started, but it must");
            else if (!may && attempts > 0) violations.Add($"{fetcher.Name} started ({attempts} attempt(s)), but it must not");
            else if (!scenario.Abandoned && attempts > 0 && prediction.Attempts[i] is { } predicted && attempts != predicted)
                violations.Add($"{fetcher.Name} made {attempts} attempt(s), expected {predicted}: the run is shared, its fetchers run once");
        }
        if (run.TokensFired != run.Started) violations.Add($"{run.TokensFired} of {run.Started} started fetches saw their token fire");
        if (run.Running != 0) violations.Add($"{run.Running} fetch(es) still running once quiet");
    }
}
