using System.Diagnostics;

namespace Actors.Tests.Shared;

/// <summary>Records, from inside a fetch, that it started and the moment its token fired.</summary>
public sealed class TokenProbe
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<long> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _starts;

    public int Starts => Volatile.Read(ref _starts);

    public bool WasCancelled => _cancelled.Task.IsCompleted;

    /// <summary>Call at the top of a fetch.</summary>
    public void Attach(CancellationToken token)
    {
        Interlocked.Increment(ref _starts);
        token.Register(() => _cancelled.TrySetResult(Stopwatch.GetTimestamp()));
        _started.TrySetResult();
    }

    public Task WhenStarted(TimeSpan? within = null) => _started.Task.WaitAsync(within ?? TimeSpan.FromSeconds(10));

    /// <summary>Completes with the Stopwatch timestamp at which the token fired; fails if it does not fire in time.</summary>
    public Task<long> WhenCancelled(TimeSpan? within = null) => _cancelled.Task.WaitAsync(within ?? TimeSpan.FromSeconds(10));
}

/// <summary>Fetch delegates with scripted behaviour.</summary>
public static class Fetches
{
    /// <summary>Honours its token; returns <paramref name="value"/> after <paramref name="delay"/>.</summary>
    public static Func<TKey, CancellationToken, Task<T>> After<TKey, T>(TimeSpan delay, T value, TokenProbe? probe = null) =>
        async (_, ct) =>
        {
            probe?.Attach(ct);
            await Task.Delay(delay, ct);
            return value;
        };

    /// <summary>Honours its token; faults with <paramref name="error"/> after <paramref name="delay"/>.</summary>
    public static Func<TKey, CancellationToken, Task<T>> FailAfter<TKey, T>(TimeSpan delay, Exception error, TokenProbe? probe = null) =>
        async (_, ct) =>
        {
            probe?.Attach(ct);
            await Task.Delay(delay, ct);
            throw error;
        };

    /// <summary>Throws before its first await.</summary>
    public static Func<TKey, CancellationToken, Task<T>> ThrowsAtOnce<TKey, T>(Exception error) => (_, _) => throw error;

    /// <summary>Returns a null task.</summary>
    public static Func<TKey, CancellationToken, Task<T>> ReturnsNull<TKey, T>() => (_, _) => null!;

    /// <summary>Ignores its token: waits for <paramref name="release"/>, then returns <paramref name="value"/> (or faults with its exception).</summary>
    public static Func<TKey, CancellationToken, Task<T>> IgnoringToken<TKey, T>(Task release, T value, TokenProbe? probe = null) =>
        async (_, ct) =>
        {
            probe?.Attach(ct);
            await release.ConfigureAwait(false);
            return value;
        };

    /// <summary>Honours its token and never finishes on its own; <paramref name="probeFor"/> gives each key its own probe.</summary>
    public static Func<TKey, CancellationToken, Task<T>> Hang<TKey, T>(Func<TKey, TokenProbe> probeFor) =>
        async (key, ct) =>
        {
            probeFor(key).Attach(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return default!;
        };

    /// <summary>Honours its token and never finishes on its own.</summary>
    public static Func<TKey, CancellationToken, Task<T>> Hang<TKey, T>(TokenProbe? probe = null) =>
        async (_, ct) =>
        {
            probe?.Attach(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return default!;
        };
}
