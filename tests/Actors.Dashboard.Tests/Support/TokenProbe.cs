namespace Actors.Dashboard.Tests.Support;

/// <summary>Records, from inside a fetch, that it started and that its token fired.</summary>
public sealed class TokenProbe
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Call at the top of a fetch.</summary>
    public void Attach(CancellationToken token)
    {
        token.Register(() => _cancelled.TrySetResult());
        _started.TrySetResult();
    }

    public Task WhenStarted() => _started.Task.WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>Fails if the token does not fire within 10 s.</summary>
    public Task WhenCancelled() => _cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>A fetch that honours its token and never finishes on its own.</summary>
    public static Func<int, CancellationToken, Task<string>> Hang(Func<int, TokenProbe> probeFor) =>
        async (id, ct) =>
        {
            probeFor(id).Attach(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        };
}
