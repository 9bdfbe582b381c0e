using System.Diagnostics;

namespace Actors.Aggregation.Benchmarks.Workloads;

/// <summary>
/// One set of named fetchers and a deadline, handed unchanged to all four approaches so they run the same fetches
/// with the same semantics. Every fetch is a plain <c>(key, token) =&gt; Task&lt;string&gt;</c>, as a user writes it.
/// </summary>
public sealed class Workload
{
    public Workload(string[] names, Func<int, CancellationToken, Task<string>>[] fetches, TimeSpan timeout)
    {
        Names = names;
        Fetches = fetches;
        Timeout = timeout;
    }

    public string[] Names { get; }

    public Func<int, CancellationToken, Task<string>>[] Fetches { get; }

    /// <summary>Every request's deadline, the same for every approach.</summary>
    public TimeSpan Timeout { get; }

    public int FanOut => Fetches.Length;

    /// <summary>The same workload as our library's definition.</summary>
    public AggregationDefinition<int, string> ToDefinition()
    {
        var builder = Aggregation.For<int>();
        for (var i = 0; i < Fetches.Length; i++) builder = builder.Fetch(Names[i], Fetches[i]);
        return builder.WithTimeout(Timeout).Build();
    }

    /// <summary>The combined text every approach must produce on success: parts joined with " | " in declared order.</summary>
    public static string ExpectedInstantResult(int fanOut) => string.Join(" | ", Enumerable.Range(0, fanOut).Select(PartText));

    private static string PartText(int index) => "p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] NamesFor(int fanOut) =>
        Enumerable.Range(0, fanOut).Select(i => "f" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// Fetches that complete at once with a cached task: what is left is the cost of coordinating them, which is what
    /// the throughput table compares. The deadline is armed for every request but never reached.
    /// </summary>
    public static Workload Instant(int fanOut)
    {
        var fetches = new Func<int, CancellationToken, Task<string>>[fanOut];
        for (var i = 0; i < fanOut; i++)
        {
            var done = Task.FromResult(PartText(i));
            fetches[i] = (_, _) => done;
        }
        return new Workload(NamesFor(fanOut), fetches, TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Slow fetches: each waits on <paramref name="gate"/> (or its token), so requests stay in flight until the gate opens.
    /// </summary>
    public static Workload Gated(int fanOut, Gate gate) =>
        new(NamesFor(fanOut), Enumerable.Range(0, fanOut).Select(_ => (Func<int, CancellationToken, Task<string>>)gate.Wait).ToArray(),
            TimeSpan.FromMinutes(5));

    /// <summary>
    /// The last fetcher fails after one hop to the thread pool; the others hang until their token fires.
    /// <paramref name="probe"/> records when the failure was thrown and when each sibling's token fired.
    /// </summary>
    public static Workload LastFails(int fanOut, SiblingProbe probe)
    {
        var fetches = new Func<int, CancellationToken, Task<string>>[fanOut];
        for (var i = 0; i < fanOut - 1; i++) fetches[i] = probe.Sibling;
        fetches[fanOut - 1] = probe.Failing;
        return new Workload(NamesFor(fanOut), fetches, TimeSpan.FromSeconds(30));
    }

    /// <summary>Fetches that never finish on their own but honour their token: every request ends at its deadline.</summary>
    public static Workload Hanging(int fanOut, TimeSpan timeout) =>
        new(NamesFor(fanOut), Enumerable.Range(0, fanOut).Select(_ => (Func<int, CancellationToken, Task<string>>)HangUntilCancelled).ToArray(),
            timeout);

    private static Task<string> HangUntilCancelled(int key, CancellationToken ct)
    {
        var hang = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        ct.Register(static state => ((TaskCompletionSource<string>)state!).TrySetCanceled(), hang);
        return hang.Task;
    }
}

/// <summary>Holds slow fetches until opened; counts how many have started. <see cref="Rearm"/> closes it again.</summary>
public sealed class Gate
{
    private volatile TaskCompletionSource<string> _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Awaited? _awaited;
    private int _started;

    public int Started => Volatile.Read(ref _started);

    public Task<string> Wait(int key, CancellationToken ct)
    {
        var started = Interlocked.Increment(ref _started);
        if (_awaited is { } awaited && started >= awaited.Target) awaited.Reached.TrySetResult();
        return _open.Task.WaitAsync(ct);
    }

    /// <summary>Completes once <paramref name="count"/> fetches have started (since the last <see cref="Rearm"/>).</summary>
    public Task WhenStarted(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _awaited = new Awaited(count, reached);
        if (Started >= count) reached.TrySetResult(); // fetches that started before the wait was registered
        return reached.Task;
    }

    public void Open() => _open.TrySetResult("slow");

    private sealed record Awaited(int Target, TaskCompletionSource Reached);

    public void Rearm()
    {
        _awaited = null;
        _open = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _started, 0);
    }
}

/// <summary>
/// Per request (the key is the request's index): the Stopwatch timestamp of the failure and the latest timestamp at which a
/// sibling's token fired, so the time from the first failure to the last sibling's cancellation can be read per request.
/// </summary>
public sealed class SiblingProbe
{
    private readonly long[] _failedAt;
    private readonly long[] _lastCancelledAt;
    private readonly int[] _siblingsLeft;
    private readonly TaskCompletionSource _allCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requestsLeft;

    public SiblingProbe(int requests, int siblings)
    {
        _failedAt = new long[requests];
        _lastCancelledAt = new long[requests];
        _siblingsLeft = new int[requests];
        Array.Fill(_siblingsLeft, siblings);
        _requestsLeft = requests;
    }

    public static readonly InvalidOperationException Failure = new("the failing fetcher failed, as scripted");

    /// <summary>Completes once every sibling of every request has seen its token fire.</summary>
    public Task WhenAllCancelled => _allCancelled.Task;

    public async Task<string> Failing(int key, CancellationToken ct)
    {
        await Task.Yield();
        Volatile.Write(ref _failedAt[key], Stopwatch.GetTimestamp());
        throw Failure;
    }

    public Task<string> Sibling(int key, CancellationToken ct)
    {
        var hang = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        ct.Register(() =>
        {
            var now = Stopwatch.GetTimestamp();
            long seen;
            do seen = Volatile.Read(ref _lastCancelledAt[key]);
            while (now > seen && Interlocked.CompareExchange(ref _lastCancelledAt[key], now, seen) != seen);
            if (Interlocked.Decrement(ref _siblingsLeft[key]) == 0 && Interlocked.Decrement(ref _requestsLeft) == 0) _allCancelled.TrySetResult();
            hang.TrySetCanceled(ct);
        });
        return hang.Task;
    }

    /// <summary>Microseconds from the failure to the last sibling's token, for requests [from, to).</summary>
    public double[] MicrosecondsToLastSibling(int from, int to)
    {
        var result = new double[to - from];
        for (var i = from; i < to; i++)
            result[i - from] = Stopwatch.GetElapsedTime(_failedAt[i], _lastCancelledAt[i]).TotalMicroseconds;
        return result;
    }
}
