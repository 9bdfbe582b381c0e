using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;
using Actors.Aggregation.Cluster;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// Beyond one aggregator: the same request served by a local aggregator, by an aggregator on another node (a second actor
/// system in this process, over Akka.Remote TCP on 127.0.0.1), and through a front over a pool of 1, 2 and 4 local
/// aggregators; and a cancel crossing nodes, from <c>CancelAggregate</c> sent on node A to the fetch's token firing on
/// node B. Both systems are in one process, so one clock times both ends and the bytes counted are both nodes'. And a real
/// crash: a worker node in a child process, killed while it runs requests for a cluster front on this node.
/// </summary>
public static class NodeExperiments
{
    private static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        """).WithFallback(AggregationSettings.DefaultConfig());

    /// <summary>Requests/s, µs and bytes per request from node A to an aggregator on node B.</summary>
    public static async Task<LoadReport> RemoteThroughputAsync(int fanOut, int inFlight, TimeSpan warmup, TimeSpan measure)
    {
        var a = BenchSystem.Create("node", RemoteConfig);
        var b = BenchSystem.Create("node", RemoteConfig);
        try
        {
            var workload = Workload.Instant(fanOut);
            b.ActorOf(AggregatorActor.Props(workload.ToDefinition(), ApproachFactory.OurSettings(b)), "ours");
            var remote = await a.ActorSelection(new RootActorPath(Address(b)) / "user" / "ours").ResolveOne(TimeSpan.FromSeconds(10));
            var expected = Workload.ExpectedInstantResult(fanOut);
            return await a.DriveAsync(new ActorApproach(remote), new LoadPlan(inFlight)
            {
                Warmup = warmup,
                Measure = measure,
                Expected = reply => reply is AggregateSucceeded<string> ok && ok.Result == expected,
            });
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate());
        }
    }

    /// <summary>A front over <paramref name="aggregators"/> local aggregators, as an approach.</summary>
    public static IApproach Front(ActorSystem system, Workload workload, int aggregators) =>
        new ActorApproach(system.ActorOf(AggregatorFront.Pool(workload.ToDefinition(), aggregators, ApproachFactory.OurSettings(system)), "front"));

    /// <summary>
    /// Microseconds from a cancel sent on node A (a cancelled <c>AggregateAsync</c> token) to the fetch's token firing on node
    /// B, one request at a time, <paramref name="requests"/> times after <paramref name="warmup"/> untimed ones.
    /// </summary>
    public static async Task<double[]> CancelAcrossNodesAsync(int requests, int warmup)
    {
        var a = BenchSystem.Create("node", RemoteConfig);
        var b = BenchSystem.Create("node", RemoteConfig);
        try
        {
            var started = new ConcurrentDictionary<int, TaskCompletionSource>();
            var fired = new ConcurrentDictionary<int, TaskCompletionSource<long>>();
            TaskCompletionSource Started(int key) => started.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            TaskCompletionSource<long> Fired(int key) => fired.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            var definition = Aggregation.For<int>()
                .Fetch("hangs", async (key, ct) =>
                {
                    ct.Register(() => Fired(key).TrySetResult(Stopwatch.GetTimestamp()));
                    Started(key).TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                    return "never";
                })
                .WithTimeout(TimeSpan.FromSeconds(30))
                .Build();
            b.ActorOf(AggregatorActor.Props(definition, ApproachFactory.OurSettings(b)), "hangs");
            var remote = await a.ActorSelection(new RootActorPath(Address(b)) / "user" / "hangs").ResolveOne(TimeSpan.FromSeconds(10));
            var samples = new List<double>();
            for (var key = 0; key < warmup + requests; key++)
            {
                using var cts = new CancellationTokenSource();
                var call = remote.AggregateAsync<int, string>(key, TimeSpan.FromSeconds(30), cts.Token);
                await Started(key).Task.WaitAsync(TimeSpan.FromSeconds(10));
                var sent = Stopwatch.GetTimestamp();
                await cts.CancelAsync();
                var firedAt = await Fired(key).Task.WaitAsync(TimeSpan.FromSeconds(10));
                try { await call; } catch (OperationCanceledException) { }
                if (key >= warmup) samples.Add(Stopwatch.GetElapsedTime(sent, firedAt).TotalMicroseconds);
            }
            return samples.ToArray();
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate());
        }
    }

    /// <summary>How many requests run on the worker node when it is killed.</summary>
    public const int KillRequests = 6;

    // The front node of a killed worker, configured as the cluster specs' ProcessKillSpecs: the oldest member, running
    // Akka's split-brain resolver (keep-oldest), with the worker's fast failure-detector timings. Its log goes to FrontLog.
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString($"""
        akka.loggers = ["{typeof(FrontLog).FullName}, {typeof(FrontLog).Assembly.GetName().Name}"]
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.actor.serialization-settings.allow-unregistered-types = off
        akka.cluster.roles = [front]
        akka.cluster.gossip-interval = 200ms
        akka.cluster.leader-actions-interval = 200ms
        akka.cluster.unreachable-nodes-reaper-interval = 200ms
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-oldest
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        actors.aggregation.front.identify-interval = 200ms
        """).WithFallback(AggregationSettings.DefaultConfig());

    // The front's view of the worker's aggregation: only its budget and fetcher names are used on this node.
    private static readonly AggregationDefinition<int, string> Dashboard = Aggregation.For<int>()
        .Fetch("profile", (_, _) => Task.FromResult("unused on the front node"))
        .Build();

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Microseconds from killing a worker node (Actors.Aggregation.Cluster.Node, a child process, with
    /// <see cref="Process.Kill(bool)"/>) while it runs <see cref="KillRequests"/> requests for a
    /// <see cref="ClusterAggregatorFront"/> on this node, to each of their answers at the requester: one round, a fresh front
    /// system and a fresh worker. Every answer must be <see cref="NodeFailed"/> naming the worker, or this throws.
    /// </summary>
    /// <param name="failOnUnreachable">The front's <see cref="AggregatorFrontSettings.FailOnUnreachable"/>: answered when the
    /// node is unreachable (on) or when the split-brain resolver has downed it (off, the default).</param>
    public static async Task<double[]> KillToAnswerAsync(bool failOnUnreachable)
    {
        var system = BenchSystem.Create("cluster", ClusterConfig);
        Process? worker = null;
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
            worker = StartWorker(cluster.SelfAddress);
            var ready = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (ready is null || !ready.StartsWith("ready ", StringComparison.Ordinal))
                throw new InvalidOperationException($"the worker node did not start: it said '{ready}'");
            var workerAddress = ready["ready ".Length..];

            var settings = AggregatorFrontSettings.Create(system).WithFailOnUnreachable(failOnUnreachable);
            var front = system.ActorOf(ClusterAggregatorFront.Props(Dashboard, "/user/dashboard-pool", "worker", settings), "dashboard");
            await UntilAsync("the front to find the worker's aggregator",
                async () => (await front.Ask<FrontStats>(GetFrontStats.Instance, AskTimeout)).Aggregators == 1);
            var hello = await front.AggregateAsync<int, string>(-1, TimeSpan.FromSeconds(10));
            if (hello != "Name: Alice (child process)") throw new InvalidOperationException($"the worker answered '{hello}' to a request it answers at once");

            var answered = new TaskCompletionSource<Answer[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            var requester = system.ActorOf(Props.Create(() => new KillRequester(KillRequests, answered)), "requester");
            for (var key = 1; key <= KillRequests; key++)
                front.Tell(new Aggregate<int>(key) { RequestId = $"kill-{key}", Timeout = TimeSpan.FromSeconds(60) }, requester);
            await UntilAsync("the requests to run on the worker",
                async () => (await front.Ask<AggregatorStats>(GetAggregatorStats.Instance, AskTimeout)).LiveFetchers == KillRequests);

            var killed = Stopwatch.GetTimestamp();
            worker.Kill(entireProcessTree: true);
            var answers = await answered.Task.WaitAsync(TimeSpan.FromSeconds(30));

            foreach (var answer in answers)
                if (answer.Reply is not AggregateFailed { Reason: NodeFailed failure } || failure.Node != workerAddress)
                    throw new InvalidOperationException($"a request on the killed worker {workerAddress} was answered {answer.Reply}, not NodeFailed naming it");
            var ids = answers.Select(a => a.Reply.RequestId).Order(StringComparer.Ordinal).ToArray();
            var expected = Enumerable.Range(1, KillRequests).Select(key => $"kill-{key}").Order(StringComparer.Ordinal).ToArray();
            if (!ids.SequenceEqual(expected)) throw new InvalidOperationException($"the answers were to {string.Join(", ", ids)}, not to each request once");
            var total = await requester.Ask<int>(KillRequester.HowMany.Instance, AskTimeout);
            if (total != KillRequests) throw new InvalidOperationException($"{total} answers to {KillRequests} requests");
            return answers.Select(a => Stopwatch.GetElapsedTime(killed, a.At).TotalMicroseconds).ToArray();
        }
        finally
        {
            if (worker is not null)
            {
                if (!worker.HasExited) worker.Kill(entireProcessTree: true);
                worker.Dispose();
            }
            await system.Terminate();
        }
    }

    private static Process StartWorker(Address seed)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Actors.Aggregation.Cluster.Node.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the worker node is built next to the benchmark: {dll}", dll);
        var start = new ProcessStartInfo("dotnet", [dll, seed.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true, // closed with this process: the worker then stops by itself
            UseShellExecute = false,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the worker node");
    }

    private static async Task UntilAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        while (!await condition())
        {
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"waited 30 s for {what}");
            await Task.Delay(100);
        }
    }

    private readonly record struct Answer(long At, IAggregateReply Reply);

    /// <summary>The requester of the killed worker's requests: stamps each answer as it arrives.</summary>
    private sealed class KillRequester(int expected, TaskCompletionSource<Answer[]> answered) : UntypedActor
    {
        private readonly List<Answer> _answers = [];

        public sealed class HowMany
        {
            public static readonly HowMany Instance = new();

            private HowMany() { }
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case IAggregateReply reply:
                    _answers.Add(new Answer(Stopwatch.GetTimestamp(), reply));
                    if (_answers.Count == expected) answered.TrySetResult(_answers.ToArray());
                    break;
                case HowMany:
                    Sender.Tell(_answers.Count);
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }

    /// <summary>
    /// The front node's log: on stderr with the progress lines (stdout holds the tables), less the error Akka.Remote logs
    /// when the killed worker's connection drops, which is the point of the experiment (its exception type is internal to
    /// Akka.Remote, hence named).
    /// </summary>
    private sealed class FrontLog : ReceiveActor
    {
        public FrontLog()
        {
            Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
            Receive<LogEvent>(e =>
            {
                if (e is not Error { Cause: { } cause } || cause.GetType().FullName != "Akka.Remote.EndpointDisassociatedException") Console.Error.WriteLine(e);
            });
        }
    }

    private static Address Address(ActorSystem system) => ((ExtendedActorSystem)system).Provider.DefaultAddress;
}
