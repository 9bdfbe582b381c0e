namespace Actors.Aggregation.Benchmarks.Approaches;

/// <summary>
/// errgroup.WithContext in Tasks, shared by the floor and the Ask-based version: one linked token source per request
/// (cancelled by the owner stopping, by the deadline, or by the first failure); the first failure wins.
/// </summary>
internal sealed class ErrGroup : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private Exception? _first;

    public ErrGroup(CancellationToken stopping, TimeSpan timeout)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _cts.CancelAfter(timeout);
    }

    public CancellationToken Token => _cts.Token;

    public Exception? FirstFailure => Volatile.Read(ref _first);

    public int FirstIndex { get; private set; } = -1;

    /// <summary>Passes the part through; a failure that is not the group's own cancellation becomes the cause and cancels the rest.</summary>
    public async Task<string> Guard(Task<string> task, int index)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (Exception e) when (!_cts.IsCancellationRequested)
        {
            if (Interlocked.CompareExchange(ref _first, e, null) is null) FirstIndex = index;
            _cts.Cancel();
            throw;
        }
    }

    public void Dispose() => _cts.Dispose();
}
