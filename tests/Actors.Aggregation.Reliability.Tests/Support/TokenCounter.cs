using System.Diagnostics;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>Counts, across many fetches, how many started, how many saw their token fire, and how many are still running.</summary>
public sealed class TokenCounter
{
    private int _started;
    private int _fired;
    private int _running;

    public int Started => Volatile.Read(ref _started);
    public int Fired => Volatile.Read(ref _fired);
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Never disposed on purpose: a registration disposed by the fetch's own unwinding (which can run inline, inside
    /// <see cref="CancellationTokenSource.Cancel()"/>) would be removed before its callback ran, and the count would miss it.
    /// </summary>
    private void CountWhenFired(CancellationToken token) => token.Register(() => Interlocked.Increment(ref _fired));

    /// <summary>A fetch that honours its token and never finishes on its own.</summary>
    public async Task<string> HangAsync(CancellationToken token)
    {
        Interlocked.Increment(ref _started);
        Interlocked.Increment(ref _running);
        try
        {
            CountWhenFired(token);
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            throw new UnreachableException();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>A fetch that honours its token and returns <paramref name="value"/> once <paramref name="gate"/> opens.</summary>
    public async Task<string> WaitForAsync(Task<string> gate, CancellationToken token)
    {
        Interlocked.Increment(ref _started);
        Interlocked.Increment(ref _running);
        try
        {
            CountWhenFired(token);
            return await gate.WaitAsync(token);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
