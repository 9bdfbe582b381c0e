using System.Collections.Concurrent;
using Akka.Actor;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>A fetch's scripted failure; its message names the fetcher and the request, so a stray one can be traced.</summary>
public sealed class ScriptedFault(string message) : Exception(message);

/// <summary>
/// One generated request while it runs: the aggregation key (every fetcher reads its script from it), and what was seen:
/// fetches started, tokens fired, fetches still running, replies received.
/// </summary>
public sealed class RequestRun(RequestCase @case, string requestId)
{
    private readonly ConcurrentQueue<object> _replies = new();
    private readonly TaskCompletionSource _firstReply = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;
    private int _tokensFired;
    private int _running;

    public RequestCase Case { get; } = @case;
    public string RequestId { get; } = requestId;
    public IActorRef Requester { get; set; } = ActorRefs.Nobody;
    public bool RequesterStopped { get; set; }

    public int Started => Volatile.Read(ref _started);

    /// <summary>Fetches that ignore their token and were started (one declared after a fetcher that fails at once may never start).</summary>
    public int IgnorersStarted => Volatile.Read(ref _ignorersStarted);

    private int _ignorersStarted;
    public int TokensFired => Volatile.Read(ref _tokensFired);
    public int Running => Volatile.Read(ref _running);
    public IReadOnlyList<object> Replies => _replies.ToArray();
    public Task FirstReply => _firstReply.Task;

    public void Received(object reply)
    {
        _replies.Enqueue(reply);
        _firstReply.TrySetResult();
    }

    /// <summary>The fetch of fetcher <paramref name="index"/>, as its script says.</summary>
    public Task<string?> Fetch(int index, CancellationToken token)
    {
        var fetcher = Case.Fetchers[index];
        Interlocked.Increment(ref _started);
        if (fetcher.Behaviour == Behaviour.HangsIgnoringToken) Interlocked.Increment(ref _ignorersStarted);
        token.Register(() => Interlocked.Increment(ref _tokensFired));
        return fetcher.Behaviour switch
        {
            Behaviour.ThrowsBeforeFirstAwait => throw new ScriptedFault($"{fetcher.Name} of {RequestId} threw before its first await"),
            Behaviour.ReturnsNullTask => null!,
            _ => RunAsync(fetcher, token),
        };
    }

    private async Task<string?> RunAsync(FetcherCase fetcher, CancellationToken token)
    {
        Interlocked.Increment(ref _running);
        try
        {
            switch (fetcher.Behaviour)
            {
                case Behaviour.Succeeds:
                    await Task.Delay(fetcher.At!.Value, token);
                    return fetcher.NullPart ? null : ReferenceModel.PartOf(fetcher);
                case Behaviour.Faults:
                    await Task.Delay(fetcher.At!.Value, token);
                    throw new ScriptedFault($"{fetcher.Name} of {RequestId} faulted");
                case Behaviour.HangsHonouringToken:
                    await Task.Delay(Timeout.InfiniteTimeSpan, token);
                    throw new InvalidOperationException("unreachable");
                default:
                    // Ignores its token: nothing it awaits is cancelled by it, so it keeps running long after it fired.
                    var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    await using (token.Register(() => fired.TrySetResult()))
                        await fired.Task;
                    await Task.Delay(Scenario.IgnorerTail, CancellationToken.None);
                    if (fetcher.LateFault) throw new ScriptedFault($"{fetcher.Name} of {RequestId} faulted late, after its token fired");
                    return "late";
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}

/// <summary>The requester of one generated request: records every reply; a flush proves earlier replies were recorded.</summary>
public sealed class Requester(RequestRun run) : UntypedActor
{
    public static Props Props(RequestRun run) => Akka.Actor.Props.Create(typeof(Requester), run);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IAggregateReply reply:
                run.Received(reply);
                break;
            case Flush:
                Sender.Tell(Flush.Done);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public sealed class Flush
    {
        public static readonly Flush Instance = new();
        public static readonly object Done = new();
    }
}
