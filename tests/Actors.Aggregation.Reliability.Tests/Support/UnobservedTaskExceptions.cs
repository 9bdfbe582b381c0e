using System.Collections.Concurrent;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Collects <see cref="TaskScheduler.UnobservedTaskException"/>s while alive. Such an exception surfaces only when the GC
/// finalizes a faulted task nobody observed, so <see cref="Collect"/> forces collections before reading.
/// </summary>
public sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedTaskExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    /// <summary>Runs full collections and finalizers, then returns every unobserved exception seen so far.</summary>
    public IReadOnlyList<Exception> Collect()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return _seen.ToArray();
    }

    /// <summary>Those seen so far, without forcing a collection.</summary>
    public IReadOnlyList<Exception> SeenSoFar => _seen.ToArray();

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        foreach (var inner in e.Exception.InnerExceptions) _seen.Enqueue(inner);
    }
}
