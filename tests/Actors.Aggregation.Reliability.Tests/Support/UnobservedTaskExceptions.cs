using System.Collections.Concurrent;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Collects <see cref="TaskScheduler.UnobservedTaskException"/>s while alive. Such an exception surfaces only when the GC
/// finalizes a faulted task nobody observed, so <see cref="Collect"/> forces collections before reading.
/// </summary>
public sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    /// <summary>
    /// Subscribes after a full collection: faulted tasks an earlier spec class left behind (its actor systems shut down,
    /// the DotNetty transport's closed channels) are finalized first, so they are not taken for this class's.
    /// </summary>
    public UnobservedTaskExceptions()
    {
        Flush();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    /// <summary>
    /// Thrown in Akka.Remote's DotNetty transport (a connection closed under its feet when a node shut down): the
    /// transport's own faulted task, not the library's.
    /// </summary>
    public static bool IsTransports(Exception e) =>
        e.GetType().Namespace?.StartsWith("DotNetty.", StringComparison.Ordinal) == true
        || e.StackTrace?.Contains(" DotNetty.", StringComparison.Ordinal) == true;

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    /// <summary>Runs full collections and finalizers, then returns every unobserved exception seen so far.</summary>
    public IReadOnlyList<Exception> Collect()
    {
        Flush();
        return _seen.ToArray();
    }

    private static void Flush()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>Those seen so far, without forcing a collection.</summary>
    public IReadOnlyList<Exception> SeenSoFar => _seen.ToArray();

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        foreach (var inner in e.Exception.InnerExceptions) _seen.Enqueue(inner);
    }
}
