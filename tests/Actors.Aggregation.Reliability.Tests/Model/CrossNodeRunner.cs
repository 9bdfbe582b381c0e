using System.Collections.Concurrent;
using Actors.Aggregation.Reliability.Tests.Support;
using Actors.Aggregation.Testing;
using Akka.Actor;
using Akka.Remote;
using Akka.Remote.Transport;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// Runs one <see cref="CrossNodeScenario"/>: requesters and a front per definition on node A (<paramref name="home"/>),
/// their aggregators on a worker node of the scenario's own (from <paramref name="startWorker"/>, faulted at its time,
/// terminated afterwards: a node that fails, or that a stalled process gives up, takes no other scenario with it). Checks, per request: exactly
/// the reply <see cref="CrossNodeScenario.Expect"/> says, and the model's schedule where the worker ran the request
/// undisturbed; every started fetch saw its token fire and none still runs; once quiet, no front on A has a request in
/// flight, and the worker (unless it was shut down) has no coordinator, fetcher or fetch left, with the model's counts;
/// no dead letter on A involves a front or a requester, but for messages to a faulted worker.
/// </summary>
internal sealed class CrossNodeRunner(
    ActorSystem home,
    Func<ActorSystem> startWorker,
    DeadLetterLog deadLetters,
    UnobservedTaskExceptions unobserved,
    Definitions definitions,
    TimeSpan quietMargin,
    StallMonitor? stalls)
{
    private static int _scenarios;
    private readonly StallRetry _retry = new(stalls);
    private readonly ConcurrentDictionary<string, int> _outcomes = new();
    private readonly ConcurrentDictionary<string, int> _replies = new();

    public IReadOnlyCollection<string> Voided => _retry.Voided;

    public int Requests => _outcomes.Values.Sum();

    /// <summary>Requests by fault and by what they expected; the replies got by type and reason.</summary>
    public string Describe() =>
        $"requests by fault: {Counts(_outcomes)}; replies: {Counts(_replies)}";

    public Task RunAsync(CrossNodeScenario scenario) => _retry.RunAsync(() => RunOnceAsync(scenario));

    private async Task RunOnceAsync(CrossNodeScenario scenario)
    {
        var id = $"x{Interlocked.Increment(ref _scenarios)}";
        var fault = scenario.Fault;
        var node = startWorker();
        var nodeAddress = ((ExtendedActorSystem)node).Provider.DefaultAddress;
        var runs = scenario.Local.Requests.Select(r => new RequestRun(r, $"{id}-r{r.Number}")).ToList();
        var aggregators = new Dictionary<string, IActorRef>(); // on the worker, as the worker sees them
        var fronts = new Dictionary<string, IActorRef>();
        foreach (var run in runs) RequestRunSerializer.Register(run);
        try
        {
            var settings = AggregationSettings.Create(node);
            foreach (var request in scenario.Local.Requests)
            {
                var key = request.DefinitionKey;
                if (aggregators.ContainsKey(key)) continue;
                var name = $"{id}-a{aggregators.Count}";
                aggregators[key] = node.ActorOf(AggregatorActor.Props(definitions.For(request), settings), name);
                var remote = await home.ActorSelection(new RootActorPath(nodeAddress) / "user" / name).ResolveOne(TimeSpan.FromSeconds(10));
                fronts[key] = home.ActorOf(AggregatorFront.Over([remote], definitions.For(request)), $"{id}-f{fronts.Count}");
            }
            foreach (var run in runs) run.Requester = home.ActorOf(Requester.Props(run), $"{id}-requester{run.Case.Number}");
            // Every front, and the link to each aggregator behind it, answers once before the clock starts.
            foreach (var front in fronts.Values) await front.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(10));
            foreach (var run in runs) await run.Requester.Ask(Requester.Flush.Instance, TimeSpan.FromSeconds(10));

            var expectations = runs.ToDictionary(r => r, r => scenario.Expect(r.Case, nodeAddress.ToString()));
            var events = Task.WhenAll(runs.Select(run => Start(run, fronts[run.Case.DefinitionKey])).Append(FaultAsync(fault, node)).ToList());

            var violations = new List<string>();
            var decideWithin = scenario.Horizon + quietMargin;
            foreach (var (run, (expected, _)) in expectations)
            {
                if (expected is Expected.NoReply or Expected.NodeLost { MayBeNone: true }) continue;
                try
                {
                    await run.FirstReply.WaitAsync(decideWithin);
                }
                catch (TimeoutException)
                {
                    violations.Add($"{ScenarioRunner.Name(run)}: no reply within {decideWithin.TotalMilliseconds:0} ms; expected {expected}");
                }
            }
            await events;

            // Quiet: nothing in flight on either side, no fetch still running.
            var quietWithin = scenario.Horizon + Scenario.IgnorerTail + quietMargin;
            foreach (var front in fronts.Values)
                if (!await InFlightDrainsAsync(front, quietWithin)) violations.Add($"{front.Path.Name}: a request still in flight on the front");
            if (fault.Kind != FaultKind.Shutdown)
                foreach (var aggregator in aggregators.Values) await AggregationAssert.NoLeaksAsync(aggregator, quietWithin);
            else if (!await FetchesEndAsync(runs, quietWithin)) violations.Add("a fetch still runs after the worker's actor system terminated");

            foreach (var (run, (expected, schedule)) in expectations)
            {
                await ScenarioRunner.CheckRequestAsync(run, violations, expected, schedule);
                foreach (var reply in run.Replies) _replies.AddOrUpdate(Kind(reply), 1, (_, c) => c + 1);
            }
            if (fault.Kind != FaultKind.Shutdown)
                foreach (var (key, aggregator) in aggregators)
                    await ScenarioRunner.CheckAggregatorAsync(aggregator, runs.Where(r => r.Case.DefinitionKey == key).ToList(), violations);

            var paths = fronts.Values.Concat(runs.Select(r => r.Requester)).Select(a => a.Path);
            foreach (var letter in await deadLetters.InvolvingAsync(paths))
            {
                if (fault.Kind != FaultKind.None && letter.Recipient.Path.Address.Equals(nodeAddress)) continue; // to the faulted node
                if (DeadLetterLog.IsAkkaFormerWatcherNotification(letter, runs.Select(r => r.Requester))) continue;
                // The front's answer racing the requester's death at the same slot (the reply was lost with the node).
                if (letter.Message is IAggregateReply && expectations.Any(e => e.Key.Requester.Equals(letter.Recipient)
                    && e.Key.RequesterStopped && e.Value.Expected is Expected.NodeLost { MayBeNone: true })) continue;
                violations.Add($"dead letter: {letter.Message.GetType().Name} from {letter.Sender.Path} to {letter.Recipient.Path}: {letter.Message}");
            }
            foreach (var e in unobserved.SeenSoFar.Where(e => e.Message.Contains(id + "-", StringComparison.Ordinal)))
                violations.Add($"unobserved task exception: {e.GetType().Name}: {e.Message}");

            if (violations.Count > 0) throw new ModelViolation(string.Join("\n", violations));
            foreach (var (run, (expected, _)) in expectations)
                _outcomes.AddOrUpdate($"{fault.Kind}/{expected.GetType().Name}", 1, (_, c) => c + 1);
        }
        finally
        {
            foreach (var front in fronts.Values) home.Stop(front);
            foreach (var run in runs) home.Stop(run.Requester);
            await node.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
            foreach (var run in runs) RequestRunSerializer.Forget(run);
        }
    }

    /// <summary>Sends the request through its front, and interrupts it at its time, as the local runner does.</summary>
    private Task Start(RequestRun run, IActorRef front)
    {
        var request = run.Case;
        front.Tell(new Aggregate<RequestRun>(run) { RequestId = run.RequestId, Timeout = request.Deadline }, run.Requester);
        if (request.Interruption == Interruption.None) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        home.Scheduler.Advanced.ScheduleOnce(request.InterruptAt!.Value, () =>
        {
            if (request.Interruption == Interruption.Cancel) front.Tell(new CancelAggregate(run.RequestId), run.Requester);
            else
            {
                run.RequesterStopped = true;
                home.Stop(run.Requester);
            }
            done.SetResult();
        });
        return done.Task;
    }

    /// <summary>The node fault, at its time (a blip heals at its end); completes once it has happened.</summary>
    private async Task FaultAsync(NodeFault fault, ActorSystem node)
    {
        if (fault.Kind == FaultKind.None) return;
        await Task.Delay(fault.At);
        switch (fault.Kind)
        {
            case FaultKind.Silence:
                await ThrottleAsync(node, Blackhole.Instance);
                break;
            case FaultKind.Blip:
                await ThrottleAsync(node, Blackhole.Instance);
                await Task.Delay(fault.HealsAt - fault.At);
                await ThrottleAsync(node, Unthrottled.Instance);
                break;
            case FaultKind.Shutdown:
                _ = node.Terminate();
                break;
        }
    }

    /// <summary>Sets the throttler between node A and <paramref name="node"/>, both ways, on both sides.</summary>
    private async Task ThrottleAsync(ActorSystem node, ThrottleMode mode)
    {
        foreach (var (from, to) in new[] { (home, node), (node, home) })
        {
            var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)from).Provider).Transport;
            var address = ((ExtendedActorSystem)to).Provider.DefaultAddress;
            if (!await transport.ManagementCommand(new SetThrottle(address, ThrottleTransportAdapter.Direction.Both, mode)))
                throw new InvalidOperationException($"the throttler refused {mode} towards {address}");
        }
    }

    private static async Task<bool> InFlightDrainsAsync(IActorRef front, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            var stats = await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(10));
            if (stats.InFlight == 0) return true;
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(50);
        }
    }

    private static async Task<bool> FetchesEndAsync(IReadOnlyList<RequestRun> runs, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (runs.Any(r => r.Running > 0 || r.TokensFired != r.Started))
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(50);
        }
        return true;
    }

    private static string Kind(object reply) => reply switch
    {
        AggregateFailed failed => $"{failed.Reason.GetType().Name}",
        _ => reply.GetType().Name.Split('`')[0],
    };

    private static string Counts(ConcurrentDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}"));
}
