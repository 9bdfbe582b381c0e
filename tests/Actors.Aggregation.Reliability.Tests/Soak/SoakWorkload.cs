namespace Actors.Aggregation.Reliability.Tests.Soak;

/// <summary>What a soak request's three fetchers (f0, f1, f2) do; each kind has one unambiguous reply.</summary>
public enum SoakKind
{
    /// <summary>All three return within a few milliseconds: AggregateSucceeded.</summary>
    Succeeds,

    /// <summary>f1 faults after a few milliseconds, the others hang: FetcherFailed(f1).</summary>
    Faults,

    /// <summary>f0 throws before its first await: FetcherFailed(f0).</summary>
    ThrowsAtOnce,

    /// <summary>f2 returns a null Task: FetcherFailed(f2).</summary>
    ReturnsNullTask,

    /// <summary>All hang, honouring their tokens, past a deadline of tens of milliseconds: DeadlineExceeded.</summary>
    Deadline,

    /// <summary>All hang; the driver sends CancelAggregate right after the request: AggregationCancelled.</summary>
    Cancelled,

    /// <summary>f0 ignores its token (runs on well past the grace), f1 faults: FetcherFailed(f1), and f0 is abandoned.</summary>
    IgnoresToken,

    /// <summary>All hang; the requester (a short-lived actor) dies right after sending: no reply at all.</summary>
    RequesterDies,
}

/// <summary>The aggregation key of a soak request: its kind and a small delay.</summary>
public readonly record struct SoakKey(SoakKind Kind, int DelayMs);

/// <summary>The soak's fetches, and the count of fetches that ignored their token (to compare with the abandoned count).</summary>
public sealed class SoakWorkload(TimeSpan ignorerTail)
{
    private long _ignorersStarted;

    public long IgnorersStarted => Interlocked.Read(ref _ignorersStarted);

    public static SoakKind Pick(Random random) => random.Next(100) switch
    {
        < 45 => SoakKind.Succeeds,
        < 60 => SoakKind.Faults,
        < 65 => SoakKind.ThrowsAtOnce,
        < 68 => SoakKind.ReturnsNullTask,
        < 80 => SoakKind.Deadline,
        < 90 => SoakKind.Cancelled,
        < 95 => SoakKind.IgnoresToken,
        _ => SoakKind.RequesterDies,
    };

    public AggregationDefinition<SoakKey, string> Definition() =>
        Aggregation.For<SoakKey>()
            .Fetch("f0", (key, ct) => Fetch(key, 0, ct))
            .Fetch("f1", (key, ct) => Fetch(key, 1, ct))
            .Fetch("f2", (key, ct) => Fetch(key, 2, ct))
            .Build();

    private Task<string> Fetch(SoakKey key, int index, CancellationToken token) => (key.Kind, index) switch
    {
        (SoakKind.Succeeds, _) => key.DelayMs == 0 ? Task.FromResult("ok") : Delayed(key.DelayMs, token),
        (SoakKind.Faults, 1) => FaultAfter(key.DelayMs, token),
        (SoakKind.ThrowsAtOnce, 0) => throw new InvalidOperationException("thrown before the first await"),
        (SoakKind.ReturnsNullTask, 2) => null!,
        (SoakKind.IgnoresToken, 0) => IgnoreToken(token),
        (SoakKind.IgnoresToken, 1) => FaultAfter(2, token),
        _ => Hang(token),
    };

    private static async Task<string> Delayed(int ms, CancellationToken token)
    {
        await Task.Delay(ms, token);
        return "ok";
    }

    private static async Task<string> FaultAfter(int ms, CancellationToken token)
    {
        await Task.Delay(ms, token);
        throw new InvalidOperationException("scripted fault");
    }

    private static async Task<string> Hang(CancellationToken token)
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, token);
        return "never";
    }

    private async Task<string> IgnoreToken(CancellationToken token)
    {
        Interlocked.Increment(ref _ignorersStarted);
        // Keeps running for a long time after its token fired, as a fetch blocked in code that never looks at it would.
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (token.Register(() => fired.TrySetResult()))
            await fired.Task;
        await Task.Delay(ignorerTail, CancellationToken.None);
        return "late";
    }
}
