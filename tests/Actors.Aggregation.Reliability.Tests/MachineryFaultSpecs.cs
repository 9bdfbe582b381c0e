using System.Collections.Concurrent;
using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;
using Actors.Aggregation.Testing;

namespace Actors.Aggregation.Reliability.Tests;

/// <summary>Faults in the machinery itself, not in user code: the aggregator restarts, a coordinator crashes, the system shuts down.</summary>
public sealed class MachineryFaultSpecs(ITestOutputHelper output) : ReliabilitySpec(output)
{
    [Fact]
    public async Task An_aggregator_restarted_by_its_supervisor_mid_flight_must_cancel_every_request_and_fire_every_token()
    {
        const int requests = 200;
        var tokens = new TokenCounter();
        var definition = Aggregation.For<int>()
            .Fetch("slow", (int key, CancellationToken ct) => key < 0 ? tokens.HangAsync(ct) : Task.FromResult("slow"))
            .Fetch("slower", (int key, CancellationToken ct) => key < 0 ? tokens.HangAsync(ct) : Task.FromResult("slower"))
            .WithTimeout(TimeSpan.FromSeconds(60))
            .Build();
        var supervisor = Sys.ActorOf(Props.Create(() => new RestartingSupervisor(AggregatorActor.Props(definition, null))), "supervisor");
        var aggregator = await supervisor.Ask<IActorRef>("child", Generous);
        var deadLetters = new DeadLetterLog(Sys);

        for (var i = 0; i < requests; i++) aggregator.Tell(new Aggregate<int>(-1) { RequestId = $"r-{i}" });
        await EventuallyAsync(() => tokens.Started == 2 * requests);
        Assert.Equal(requests, (await StatsAsync(aggregator)).InFlight);

        aggregator.Tell(Kill.Instance); // ActorKilledException: the supervisor's decider says Restart

        var answered = new HashSet<string>();
        for (var i = 0; i < requests; i++)
        {
            var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
            var cancelled = Assert.IsType<AggregationCancelled>(reply.Reason);
            Assert.Contains("restarted after ActorKilledException", cancelled.Reason, StringComparison.Ordinal);
            Assert.True(answered.Add(reply.RequestId), $"{reply.RequestId} answered twice");
        }
        await EventuallyAsync(() => tokens.Fired == 2 * requests && tokens.Running == 0);

        // The same ref, a new incarnation: it serves again, and nothing of the old one is left.
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "after-restart" });
        Assert.Equal("slow | slower", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        Assert.Equal(1, (await StatsAsync(aggregator)).Accepted);
        await AggregationAssert.NoLeaksAsync(aggregator);
        Assert.Equal(0, CountDescendants(aggregator));
        await ExpectNoMsgAsync(Ms(200));
        Assert.Empty(await deadLetters.InvolvingAsync([supervisor.Path]));
    }

    [Fact]
    public async Task A_crashed_coordinator_must_fail_only_its_own_request()
    {
        var tokens = new TokenCounter();
        var gates = new ConcurrentDictionary<int, TaskCompletionSource<string>>();
        Task<string> Gate(int key) => gates.GetOrAdd(key, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        var definition = Aggregation.For<int>()
            .Fetch("a", (int key, CancellationToken ct) => tokens.WaitForAsync(Gate(key), ct))
            .Fetch("b", (int key, CancellationToken ct) => tokens.WaitForAsync(Gate(key), ct))
            .WithTimeout(TimeSpan.FromSeconds(60))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition), "crash");
        Watch(aggregator);
        var deadLetters = new DeadLetterLog(Sys);

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "victim" });
        await EventuallyAsync(() => tokens.Started == 2);
        var victim = await OnlyCoordinatorAsync(aggregator);
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "bystander-1" });
        aggregator.Tell(new Aggregate<int>(3) { RequestId = "bystander-2" });
        await EventuallyAsync(() => tokens.Started == 6);

        victim.Tell(Kill.Instance); // the coordinator fails; the aggregator's strategy stops it

        var failed = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("victim", failed.RequestId);
        Assert.Contains("coordinator failed (ActorKilledException", Assert.IsType<AggregationCancelled>(failed.Reason).Reason);
        Output.WriteLine($"the victim's reply: {failed.Reason.Describe()}");
        await EventuallyAsync(() => tokens.Fired == 2 && tokens.Running == 4);
        await ExpectNoMsgAsync(Ms(200));

        gates[2].SetResult("two");
        gates[3].SetResult("three");
        var results = new[] { await ExpectMsgAsync<AggregateSucceeded<string>>(Generous), await ExpectMsgAsync<AggregateSucceeded<string>>(Generous) };
        Assert.Equal(["bystander-1: two | two", "bystander-2: three | three"], results.Select(r => $"{r.RequestId}: {r.Result}").Order());

        var stats = await StatsAsync(aggregator);
        Assert.Equal((3, 0), (stats.Accepted, stats.InFlight)); // the same aggregator incarnation throughout
        await AggregationAssert.NoLeaksAsync(aggregator);
        await ExpectNoMsgAsync(Ms(200)); // no Terminated for the aggregator, no second reply
        Assert.Empty(await deadLetters.InvolvingAsync([aggregator.Path]));
    }

    [Fact]
    public async Task System_shutdown_with_10000_requests_in_flight_must_answer_every_live_requester_and_fire_every_token()
    {
        const int requests = 10_000, viaAsk = requests / 2, actors = 50, perActor = (requests - viaAsk) / actors;
        var tokens = new TokenCounter();
        var definition = Aggregation.For<int>()
            .Fetch("a", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .Fetch("b", (int _, CancellationToken ct) => tokens.HangAsync(ct))
            .WithTimeout(TimeSpan.FromMinutes(2))
            .Build();
        var system = ActorSystem.Create("shutting-down", ConfigurationFactory.ParseString("""
            akka.loglevel = ERROR
            akka.log-dead-letters = off
            actors.aggregation.max-in-flight = 10000
            """));
        var aggregator = system.ActorOf(AggregatorActor.Props(definition), "aggregator");

        // Half the callers are plain code (AggregateAsync, an Ask); half are actors that live in another system, so they outlive this one.
        var asks = Enumerable.Range(0, viaAsk)
            .Select(i => aggregator.AggregateAsync<int, string>(i, TimeSpan.FromMinutes(2)))
            .ToList();
        var requesters = Enumerable.Range(0, actors).Select(i => new CollectingRequester(perActor)).ToList();
        var requesterRefs = requesters.Select((r, i) => Sys.ActorOf(Props.Create(() => new CollectingActor(r)), $"requester-{i}")).ToList();
        for (var i = 0; i < actors; i++)
            for (var j = 0; j < perActor; j++)
                aggregator.Tell(new Aggregate<int>(j) { RequestId = $"actor-{i}-{j}" }, requesterRefs[i]);

        try
        {
            await EventuallyAsync(() => tokens.Started == 2 * requests, TimeSpan.FromSeconds(60));
        }
        catch
        {
            // Say where it got stuck, and do not leave 20,000 hanging fetches behind for the next spec.
            Output.WriteLine($"started {tokens.Started} fetches; {asks.Count(a => a.IsCompleted)} asks and {requesters.Sum(r => r.Count)} actor requests answered early: "
                + string.Join("; ", asks.Where(a => a.IsFaulted).Select(a => a.Exception!.InnerException!.Message).Distinct().Take(3)));
            await system.Terminate();
            throw;
        }
        var stats = await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous);
        Assert.Equal((requests, requests, 0L), (stats.InFlight, (int)stats.Accepted, stats.Rejected));

        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(60));

        foreach (var ask in asks)
        {
            var failure = await Assert.ThrowsAsync<AggregationFailedException>(() => ask.WaitAsync(Generous));
            Assert.Contains("shutting down", Assert.IsType<AggregationCancelled>(failure.Reason).Reason, StringComparison.Ordinal);
        }
        foreach (var requester in requesters)
        {
            var replies = await requester.All.WaitAsync(Generous);
            Assert.Equal(perActor, replies.Select(r => r.RequestId).Distinct().Count());
            Assert.All(replies, r => Assert.Contains("shutting down", Assert.IsType<AggregationCancelled>(r.Reason).Reason, StringComparison.Ordinal));
        }
        await EventuallyAsync(() => tokens.Fired == 2 * requests && tokens.Running == 0, TimeSpan.FromSeconds(30));
        await ExpectNoMsgAsync(Ms(200));
        Assert.All(requesters, r => Assert.Equal(perActor, r.Count)); // exactly one reply each, no more
    }

    private async Task<IActorRef> OnlyCoordinatorAsync(IActorRef aggregator)
    {
        var probe = CreateTestProbe();
        Sys.ActorSelection(aggregator.Path / "*").Tell(new Identify("coordinator"), probe.Ref);
        var identity = await probe.ExpectMsgAsync<ActorIdentity>(Generous);
        await probe.ExpectNoMsgAsync(Ms(300));
        return identity.Subject ?? throw new InvalidOperationException("no coordinator found");
    }

    /// <summary>A parent whose strategy restarts its child, whatever it throws.</summary>
    private sealed class RestartingSupervisor : UntypedActor
    {
        private readonly IActorRef _child;

        public RestartingSupervisor(Props child) => _child = Context.ActorOf(child, "aggregator");

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, _ => Directive.Restart, loggingEnabled: false);

        protected override void OnReceive(object message) => Sender.Tell(_child);
    }

    /// <summary>Collects the replies one requester actor receives.</summary>
    private sealed class CollectingRequester(int expected)
    {
        private readonly ConcurrentQueue<AggregateFailed> _replies = new();
        private readonly TaskCompletionSource<IReadOnlyList<AggregateFailed>> _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IReadOnlyList<AggregateFailed>> All => _all.Task;

        public int Count => _replies.Count;

        public void Add(AggregateFailed reply)
        {
            _replies.Enqueue(reply);
            if (_replies.Count == expected) _all.TrySetResult(_replies.ToArray());
        }
    }

    private sealed class CollectingActor : ReceiveActor
    {
        public CollectingActor(CollectingRequester requester) => Receive<AggregateFailed>(requester.Add);
    }
}
