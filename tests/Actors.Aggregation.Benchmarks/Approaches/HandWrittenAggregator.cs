using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;

namespace Actors.Aggregation.Benchmarks.Approaches;

/// <summary>
/// The hand-written Akka.NET version, as users write it without the library: a long-lived ReceiveActor that starts a
/// ReceiveActor coordinator per request; the coordinator creates one child per fetcher with
/// <c>Props.Create(() =&gt; new HandWrittenFetcher(...))</c>, supervises them all-for-one (stop), arms a deadline with
/// <see cref="IWithTimers"/>, and replies once. Each fetcher pipes its task to itself and cancels its token in PostStop.
/// </summary>
public sealed class HandWrittenAggregator : ReceiveActor
{
    public HandWrittenAggregator(Workload workload)
    {
        Receive<Aggregate<int>>(request =>
        {
            // Akka reads an argument that is a captured variable by reflection, but compiles (a dynamic method per call)
            // anything else: request.Key, names[i], or a variable of an enclosing scope. So every argument is a local here.
            var work = workload;
            var replyTo = Sender;
            var key = request.Key;
            var requestId = request.RequestId!;
            Context.ActorOf(Akka.Actor.Props.Create(() => new HandWrittenCoordinator(work, key, requestId, replyTo)));
        });
    }

    public static Props Props(Workload workload) => Akka.Actor.Props.Create(() => new HandWrittenAggregator(workload));
}

public sealed class HandWrittenCoordinator : ReceiveActor, IWithTimers
{
    private readonly Workload _workload;
    private readonly int _key;
    private readonly string _requestId;
    private readonly IActorRef _replyTo;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly string?[] _parts;
    private int _pending;
    private bool _replied;

    public HandWrittenCoordinator(Workload workload, int key, string requestId, IActorRef replyTo)
    {
        _workload = workload;
        _key = key;
        _requestId = requestId;
        _replyTo = replyTo;
        _parts = new string?[workload.FanOut];
        _pending = workload.FanOut;

        Receive<PartReady>(part =>
        {
            if (_replied || _parts[part.Index] is not null) return;
            _parts[part.Index] = part.Value;
            if (--_pending == 0)
                Reply(new AggregateSucceeded<string>(_requestId, string.Join(" | ", _parts), Stopwatch.GetElapsedTime(_started)));
        });
        Receive<Deadline>(_ =>
        {
            var pending = _workload.Names.Where((_, i) => _parts[i] is null).ToArray();
            Reply(new AggregateFailed(_requestId, new DeadlineExceeded(_workload.Timeout, pending)) { Elapsed = Stopwatch.GetElapsedTime(_started) });
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        Timers.StartSingleTimer("deadline", Deadline.Instance, _workload.Timeout);
        for (var i = 0; i < _workload.FanOut; i++)
        {
            // Locals of this scope only (see HandWrittenAggregator): each is read by reflection, none compiled.
            var key = _key;
            var index = i;
            var name = _workload.Names[i];
            var fetch = _workload.Fetches[i];
            Context.ActorOf(Props.Create(() => new HandWrittenFetcher(name, fetch, key, index)));
        }
    }

    protected override SupervisorStrategy SupervisorStrategy() => new AllForOneStrategy(0, 0, cause =>
    {
        if (!_replied && cause is FetchFailed failed)
            Reply(new AggregateFailed(_requestId, new FetcherFailed(failed.Fetcher, failed.InnerException!)) { Elapsed = Stopwatch.GetElapsedTime(_started) });
        return Directive.Stop;
    }, loggingEnabled: false);

    private void Reply(IAggregateReply reply)
    {
        _replied = true;
        _replyTo.Tell(reply, Context.Parent);
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        if (!_replied) _replyTo.Tell(new AggregateFailed(_requestId, new AggregationCancelled("stopped")), Context.Parent);
    }

    public sealed record PartReady(int Index, string Value);

    private sealed class Deadline
    {
        public static readonly Deadline Instance = new();
    }
}

public sealed class HandWrittenFetcher : ReceiveActor
{
    private readonly Func<int, CancellationToken, Task<string>> _fetch;
    private readonly int _key;
    private readonly CancellationTokenSource _cancellation = new();

    public HandWrittenFetcher(string name, Func<int, CancellationToken, Task<string>> fetch, int key, int index)
    {
        _fetch = fetch;
        _key = key;
        Receive<string>(part => Context.Parent.Tell(new HandWrittenCoordinator.PartReady(index, part)));
        Receive<Status.Failure>(failure => throw new FetchFailed(name, failure.Cause));
    }

    protected override void PreStart() => _fetch(_key, _cancellation.Token).PipeTo(Self);

    protected override void PostStop()
    {
        _cancellation.Cancel();
        _cancellation.Dispose();
    }
}

public sealed class FetchFailed(string fetcher, Exception cause) : Exception($"Fetcher '{fetcher}' failed", cause)
{
    public string Fetcher { get; } = fetcher;
}
