namespace Actors.Aggregation;

/// <summary>
/// The most recent latencies of one hedged fetcher on one aggregator, for a percentile hedging delay. A ring of the last
/// <see cref="Capacity"/> first attempts; the percentile is recomputed from a sorted copy every <see cref="RefreshEvery"/>
/// samples, not on every read, so a hedge decision costs a volatile read. Written from fetch continuations: one lock,
/// held for a store (and, every few dozen samples, a sort of a thousand numbers).
/// </summary>
internal sealed class LatencyWindow
{
    public const int Capacity = 1024;
    public const int RefreshEvery = 32;

    private readonly double[] _samples = new double[Capacity];
    private readonly double _percentile;
    private int _count;
    private int _next;
    private int _sinceRefresh;
    private double _cached = double.NaN; // milliseconds, NaN until the first refresh

    public LatencyWindow(double percentile) => _percentile = percentile;

    /// <summary>Samples recorded so far, up to <see cref="Capacity"/>.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Windows for the steps that hedge at a percentile, by step index; null when none does.</summary>
    public static LatencyWindow?[]? For<TKey>(FetchStep<TKey>[] steps)
    {
        LatencyWindow?[]? windows = null;
        for (var i = 0; i < steps.Length; i++)
            if (steps[i] is TaskFetchStep<TKey> { HedgePercentile: { } percentile })
                (windows ??= new LatencyWindow?[steps.Length])[i] = new LatencyWindow(percentile);
        return windows;
    }

    public void Record(TimeSpan latency)
    {
        lock (_samples)
        {
            _samples[_next] = latency.TotalMilliseconds;
            _next = (_next + 1) % Capacity;
            if (_count < Capacity) Volatile.Write(ref _count, _count + 1);
            if (++_sinceRefresh < RefreshEvery && !double.IsNaN(_cached)) return;
            _sinceRefresh = 0;
            var sorted = _samples.AsSpan(0, _count).ToArray();
            Array.Sort(sorted);
            var rank = (int)Math.Ceiling(_percentile * sorted.Length) - 1;
            Volatile.Write(ref _cached, sorted[Math.Clamp(rank, 0, sorted.Length - 1)]);
        }
    }

    /// <summary>The observed latency at the percentile, or <paramref name="fallback"/> while fewer than <paramref name="minSamples"/> are in.</summary>
    public TimeSpan DelayOr(TimeSpan fallback, int minSamples)
    {
        var cached = Volatile.Read(ref _cached);
        return Count < minSamples || double.IsNaN(cached) ? fallback : TimeSpan.FromMilliseconds(cached);
    }
}
