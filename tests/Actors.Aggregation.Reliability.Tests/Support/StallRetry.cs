using System.Collections.Concurrent;
using System.Diagnostics;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>
/// Runs a timed check again when it failed during a freeze of the whole process. A model's timing assumes the process gets
/// to run: events are <see cref="Model.Scenario.Gap"/> apart, and a freeze (measured by the <see cref="StallMonitor"/>: a
/// 10 ms timer waking up late) longer than half of that can reorder them. A failing run during which such a freeze happened
/// is therefore void, and runs again after a pause (1 s, 2 s, 4 s: stalls come in bursts, and a scenario under a
/// concurrency limit chains its fetchers, so one stall delays all that follow), at most <see cref="Attempts"/> times in all;
/// a real bug fails every time. Without a monitor nothing is voided.
/// </summary>
internal sealed class StallRetry(StallMonitor? stalls)
{
    private const int Attempts = 4;

    private readonly ConcurrentQueue<string> _voided = new();

    /// <summary>Runs voided, each with the first line of its failure.</summary>
    public IReadOnlyCollection<string> Voided => _voided;

    public void Clear() => _voided.Clear();

    public async Task RunAsync(Func<Task> once)
    {
        for (var attempt = 1; ; attempt++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await once();
                return;
            }
            catch (Exception e) when (attempt < Attempts
                && stalls?.StalledBetween(started, Stopwatch.GetTimestamp(), Model.Scenario.Gap / 2) is { } stall)
            {
                _voided.Enqueue($"voided after a {stall.TotalMilliseconds:0} ms stall of the whole process: {e.Message.Split('\n')[0]}");
                await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1)));
            }
        }
    }
}
