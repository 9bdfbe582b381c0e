using System.Collections.Concurrent;
using Akka.Actor;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>A fetch's scripted failure; its message names the fetcher and the request, so a stray one can be traced.</summary>
public sealed class ScriptedFault(string message) : Exception(message);

/// <summary>The messages of scripted failures; the runner checks a reported failure against them.</summary>
public static class Scripted
{
    public static string Faulted(string fetcher, string requestId, int attempt) => $"{fetcher} of {requestId} faulted (attempt {attempt})";

    public static string Threw(string fetcher, string requestId, int attempt) => $"{fetcher} of {requestId} threw before its first await (attempt {attempt})";
}

/// <summary>
/// One generated request while it runs: the aggregation key (every fetcher reads its script from it), and what was seen:
/// fetchers started, attempts made, tokens fired, fetches still running, replies received.
/// </summary>
public sealed class RequestRun : IReplyRecorder
{
    private readonly ConcurrentQueue<object> _replies = new();
    private readonly TaskCompletionSource _firstReply = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int[] _attempts;
    private int _started;
    private int _ignorersStarted;
    private int _tokensFired;
    private int _running;

    public RequestRun(RequestCase @case, string requestId)
    {
        Case = @case;
        RequestId = requestId;
        _attempts = new int[@case.Fetchers.Count];
    }

    public RequestCase Case { get; }
    public string RequestId { get; }
    public IActorRef Requester { get; set; } = ActorRefs.Nobody;
    public bool RequesterStopped { get; set; }

    /// <summary>Fetchers whose first attempt was called.</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>Attempts fetcher <paramref name="index"/> made (0: it never started).</summary>
    public int AttemptsOf(int index) => Volatile.Read(ref _attempts[index]);

    /// <summary>Attempts that ignore their token and were started (under a limit, or after a failure, some never start).</summary>
    public int IgnorersStarted => Volatile.Read(ref _ignorersStarted);

    /// <summary>Started fetchers whose token fired (registered once per fetcher: its attempts share its token).</summary>
    public int TokensFired => Volatile.Read(ref _tokensFired);

    public int Running => Volatile.Read(ref _running);
    public IReadOnlyList<object> Replies => _replies.ToArray();
    public Task FirstReply => _firstReply.Task;

    public void Received(object reply)
    {
        _replies.Enqueue(reply);
        _firstReply.TrySetResult();
    }

    /// <summary>One attempt of fetcher <paramref name="index"/>, as its script says.</summary>
    public Task<string?> Fetch(int index, CancellationToken token)
    {
        var fetcher = Case.Fetchers[index];
        var attempt = Interlocked.Increment(ref _attempts[index]);
        if (attempt == 1)
        {
            Interlocked.Increment(ref _started);
            token.Register(() => Interlocked.Increment(ref _tokensFired));
        }
        if (attempt > fetcher.Script.Count)
            throw new InvalidOperationException($"{fetcher.Name} of {RequestId}: attempt {attempt} was not scripted (the model says it never happens)");
        var script = fetcher.Script[attempt - 1];
        if (script.Behaviour == Behaviour.HangsIgnoringToken) Interlocked.Increment(ref _ignorersStarted);
        return script.Behaviour switch
        {
            Behaviour.ThrowsBeforeFirstAwait => throw new ScriptedFault(Scripted.Threw(fetcher.Name, RequestId, attempt)),
            Behaviour.ReturnsNullTask => null!,
            _ => RunAsync(fetcher, script, attempt, token),
        };
    }

    private async Task<string?> RunAsync(FetcherCase fetcher, AttemptScript script, int attempt, CancellationToken token)
    {
        Interlocked.Increment(ref _running);
        try
        {
            switch (script.Behaviour)
            {
                case Behaviour.Succeeds:
                    await Task.Delay(script.Duration, token);
                    return fetcher.NullPart ? null : ReferenceModel.PartOf(fetcher);
                case Behaviour.Faults:
                    await Task.Delay(script.Duration, token);
                    throw new ScriptedFault(Scripted.Faulted(fetcher.Name, RequestId, attempt));
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

/// <summary>Where a requester records the replies it gets.</summary>
public interface IReplyRecorder
{
    void Received(object reply);
}

/// <summary>The requester of one generated request: records every reply; a flush proves earlier replies were recorded.</summary>
public sealed class Requester(IReplyRecorder run) : UntypedActor
{
    public static Props Props(IReplyRecorder run) => Akka.Actor.Props.Create(typeof(Requester), run);

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
