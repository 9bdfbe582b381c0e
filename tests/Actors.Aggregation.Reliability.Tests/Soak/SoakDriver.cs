using System.Collections.Concurrent;
using Akka.Actor;

namespace Actors.Aggregation.Reliability.Tests.Soak;

/// <summary>What the soak saw, written by the driver actor and read by the test once the driver completed.</summary>
public sealed class SoakTally
{
    public readonly ConcurrentDictionary<string, long> Outcomes = new();
    public readonly ConcurrentQueue<string> Mismatches = new();
    public readonly TaskCompletionSource Completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public long MismatchCount;

    public void Count(string outcome) => Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    public void Mismatch(string what)
    {
        if (Interlocked.Increment(ref MismatchCount) <= 20) Mismatches.Enqueue(what);
    }
}

/// <summary>
/// Keeps <c>outstanding</c> requests in flight, more than the aggregator admits, until <c>total</c> were answered. A request
/// rejected as busy is replaced on the next 10 ms tick rather than at once, so the overflow knocks on the limit without
/// turning into a storm of rejections. Every reply is checked against its request's kind.
/// </summary>
public sealed class SoakDriver : UntypedActor, IWithTimers
{
    /// <summary>The deadline of every kind but <see cref="SoakKind.Deadline"/>: far beyond what they need (milliseconds).</summary>
    public static readonly TimeSpan LongestDeadline = TimeSpan.FromSeconds(5);
    private readonly IActorRef _aggregator;
    private readonly int _total;
    private readonly int _outstanding;
    private readonly SoakTally _tally;
    private readonly Random _random;
    private readonly Dictionary<string, SoakKind> _pending = new();
    private readonly Dictionary<IActorRef, string> _dying = new();
    private int _sent;
    private int _done;
    private int _deferred;

    public SoakDriver(IActorRef aggregator, int total, int outstanding, int seed, SoakTally tally)
    {
        _aggregator = aggregator;
        _total = total;
        _outstanding = outstanding;
        _tally = tally;
        _random = new Random(seed);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef aggregator, int total, int outstanding, int seed, SoakTally tally) =>
        Akka.Actor.Props.Create(typeof(SoakDriver), aggregator, total, outstanding, seed, tally);

    protected override void PreStart()
    {
        for (var i = 0; i < _outstanding; i++) SendNext();
        Timers.StartPeriodicTimer("resend", Resend.Instance, TimeSpan.FromMilliseconds(10));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IAggregateReply reply:
                Answered(reply);
                break;
            case Terminated { ActorRef: var requester } when _dying.Remove(requester, out var id):
                _pending.Remove(id);
                _tally.Count("no reply (requester died)");
                Done(replace: true);
                break;
            case Resend:
                for (; _deferred > 0 && _sent < _total; _deferred--) SendNext();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void SendNext()
    {
        if (_sent >= _total) return;
        var id = (_sent++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var kind = SoakWorkload.Pick(_random);
        var key = new SoakKey(kind, _random.Next(0, 4));
        var request = new Aggregate<SoakKey>(key)
        {
            RequestId = id,
            Timeout = kind == SoakKind.Deadline ? TimeSpan.FromMilliseconds(20 + _random.Next(30)) : LongestDeadline,
        };
        _pending[id] = kind;
        if (kind == SoakKind.RequesterDies)
        {
            var requester = Context.ActorOf(DyingRequester.Props(_aggregator, request));
            Context.Watch(requester);
            _dying[requester] = id;
            return;
        }
        _aggregator.Tell(request, Self);
        if (kind == SoakKind.Cancelled) _aggregator.Tell(new CancelAggregate(id), Self);
    }

    private void Answered(IAggregateReply reply)
    {
        if (!_pending.Remove(reply.RequestId, out var kind))
        {
            _tally.Mismatch($"a reply to no pending request: {reply}");
            return;
        }
        if (reply is AggregateFailed { Reason: RequestRejected { Reason: RequestRejected.Busy } })
        {
            _tally.Count("rejected: busy");
            Done(replace: false);
            return;
        }
        var outcome = reply switch
        {
            AggregateSucceeded<string> => "succeeded",
            AggregateFailed { Reason: FetcherFailed f } => $"fetcher-failed {f.Fetcher}",
            AggregateFailed { Reason: DeadlineExceeded } => "deadline-exceeded",
            AggregateFailed { Reason: AggregationCancelled { Reason: AggregationCancelled.ByRequester } } => "cancelled",
            AggregateFailed f => $"failed: {f.Reason.Describe()}",
            _ => reply.GetType().Name,
        };
        var expected = kind switch
        {
            SoakKind.Succeeds => "succeeded",
            SoakKind.Faults or SoakKind.IgnoresToken => "fetcher-failed f1",
            SoakKind.ThrowsAtOnce => "fetcher-failed f0",
            SoakKind.ReturnsNullTask => "fetcher-failed f2",
            SoakKind.Deadline => "deadline-exceeded",
            SoakKind.Cancelled => "cancelled",
            _ => "no reply (requester died)",
        };
        if (outcome == expected) _tally.Count(outcome);
        else _tally.Mismatch($"request {reply.RequestId} ({kind}): expected {expected}, got {outcome}");
        Done(replace: true);
    }

    private void Done(bool replace)
    {
        if (replace) SendNext();
        else _deferred++;
        if (++_done == _total) _tally.Completed.TrySetResult();
    }

    private sealed class Resend : INotInfluenceReceiveTimeout
    {
        public static readonly Resend Instance = new();
    }

    /// <summary>Sends its request and stops at once: the client that disconnects.</summary>
    private sealed class DyingRequester(IActorRef aggregator, Aggregate<SoakKey> request) : UntypedActor
    {
        public static Props Props(IActorRef aggregator, Aggregate<SoakKey> request) =>
            Akka.Actor.Props.Create(typeof(DyingRequester), aggregator, request);

        protected override void PreStart()
        {
            aggregator.Tell(request, Self);
            Context.Stop(Self);
        }

        protected override void OnReceive(object message) => Unhandled(message);
    }
}
