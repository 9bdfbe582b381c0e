using System.Diagnostics;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Measures how late a 10 ms timer wakes up, on the thread pool, for as long as it is alive: when a timing-based check fails,
/// this says whether the whole process stalled (and how long the GC paused) rather than the library misbehaving.
/// </summary>
public sealed class StallMonitor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeSpan _pausesBefore = GC.GetTotalPauseDuration();
    private readonly int _gen2Before = GC.CollectionCount(2);
    private readonly long _allocatedBefore = GC.GetTotalAllocatedBytes();
    private double _worstLateMs;
    private long _samples;
    private long _lateOver50;

    public StallMonitor() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var before = Stopwatch.GetTimestamp();
            try
            {
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var late = Stopwatch.GetElapsedTime(before).TotalMilliseconds - 10;
            _samples++;
            if (late > 50) _lateOver50++;
            if (late > _worstLateMs) _worstLateMs = late;
        }
    }

    public string Describe() =>
        $"timer lateness: worst {_worstLateMs:0} ms, {_lateOver50} of {_samples} wake-ups over 50 ms late; "
        + $"GC: {GC.CollectionCount(2) - _gen2Before} gen2 collections, {(GC.GetTotalPauseDuration() - _pausesBefore).TotalMilliseconds:0} ms paused, "
        + $"{(GC.GetTotalAllocatedBytes() - _allocatedBefore) / 1048576.0:0} MB allocated, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0} MB";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
