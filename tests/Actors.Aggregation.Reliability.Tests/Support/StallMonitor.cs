using System.Collections.Concurrent;
using System.Diagnostics;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Measures how late a 10 ms timer wakes up on the thread pool, for as long as it is alive, and remembers every wake-up that
/// was more than 50 ms late. When a timing-based check fails, this says whether the whole process was frozen at the time
/// (the machine busy elsewhere, a long GC pause) rather than the library misbehaving.
/// </summary>
public sealed class StallMonitor : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(long End, TimeSpan Late)> _stalls = new();
    private readonly Task _loop;
    private readonly TimeSpan _pausesBefore = GC.GetTotalPauseDuration();
    private readonly int _gen2Before = GC.CollectionCount(2);
    private readonly long _allocatedBefore = GC.GetTotalAllocatedBytes();
    private TimeSpan _worst;
    private long _samples;

    public StallMonitor() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var before = Stopwatch.GetTimestamp();
            try
            {
                await Task.Delay(Tick, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = Stopwatch.GetTimestamp();
            var late = Stopwatch.GetElapsedTime(before, now) - Tick;
            _samples++;
            if (late > TimeSpan.FromMilliseconds(50)) _stalls.Enqueue((now, late));
            if (late > _worst) _worst = late;
        }
    }

    /// <summary>The longest stall that overlapped [<paramref name="from"/>, <paramref name="to"/>] (Stopwatch timestamps), if any exceeded <paramref name="atLeast"/>.</summary>
    public TimeSpan? StalledBetween(long from, long to, TimeSpan atLeast)
    {
        TimeSpan? longest = null;
        foreach (var (end, late) in _stalls)
        {
            var start = end - (long)(late.TotalSeconds * Stopwatch.Frequency);
            if (late >= atLeast && start <= to && end >= from && (longest is null || late > longest)) longest = late;
        }
        return longest;
    }

    public string Describe() =>
        $"timer lateness: worst {_worst.TotalMilliseconds:0} ms, {_stalls.Count} of {_samples} wake-ups over 50 ms late; "
        + $"GC: {GC.CollectionCount(2) - _gen2Before} gen2 collections, {(GC.GetTotalPauseDuration() - _pausesBefore).TotalMilliseconds:0} ms paused, "
        + $"{(GC.GetTotalAllocatedBytes() - _allocatedBefore) / 1048576.0:0} MB allocated, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0} MB";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
