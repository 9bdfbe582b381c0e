using System.Diagnostics;
using System.Globalization;
using Actors.Aggregation.Benchmarks.Approaches;
using Akka.Actor;

namespace Actors.Aggregation.Benchmarks.Harness;

/// <summary>
/// How a <see cref="LoadDriver"/> drives an approach: a closed loop that keeps <see cref="InFlight"/> requests outstanding,
/// either for a warm-up and a measured window of time, or for a fixed number of requests.
/// </summary>
public sealed record LoadPlan(int InFlight)
{
    public TimeSpan Warmup { get; init; }

    /// <summary>Length of the measured window; ignored when <see cref="TotalRequests"/> is set.</summary>
    public TimeSpan Measure { get; init; }

    /// <summary>Send exactly this many requests (keys 0..n-1) and measure all of them.</summary>
    public int? TotalRequests { get; init; }

    /// <summary>Is this reply what the workload must produce? Anything else is counted as unexpected.</summary>
    public Func<IAggregateReply, bool> Expected { get; init; } = static _ => true;

    /// <summary>Called for every reply, on the driver, with the request's key and its send and receive timestamps.</summary>
    public Action<int, IAggregateReply, long, long>? OnReply { get; init; }
}

public sealed record LoadReport(
    long Requests, TimeSpan Window, long AllocatedBytes, int Gen0, int Gen1, int Gen2, long Unexpected, IAggregateReply? FirstUnexpected)
{
    public double RequestsPerSecond => Requests / Window.TotalSeconds;

    public double MicrosecondsPerRequest => Window.TotalMicroseconds / Requests;

    public double BytesPerRequest => (double)AllocatedBytes / Requests;
}

/// <summary>
/// The requester: an actor, as in a real host, that keeps a steady number of requests in flight against one approach and
/// measures requests, wall time, bytes allocated (all threads) and collections in its window. Every request carries a
/// fresh id (its key as text), the same for every approach.
/// </summary>
public sealed class LoadDriver : UntypedActor
{
    private Run? _run;
    private long _sent;
    private long _outstanding;
    private long _completed;
    private long _unexpected;
    private IAggregateReply? _firstUnexpected;
    private long[]? _sentAt;
    private Phase _phase;
    private long _phaseEnds;
    private long _phaseStartCompleted;
    private Mark _start;

    public static Props Props() => Akka.Actor.Props.Create(() => new LoadDriver());

    public sealed record Run(IApproach Approach, LoadPlan Plan, TaskCompletionSource<LoadReport> Done);

    private enum Phase { Warmup, Measure, Drain }

    private readonly record struct Mark(long Timestamp, long Completed, long Allocated, int Gen0, int Gen1, int Gen2)
    {
        public static Mark Now(long completed) => new(Stopwatch.GetTimestamp(), completed, GC.GetTotalAllocatedBytes(precise: true),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
    }

    private Mark _end;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Run run:
                Begin(run);
                break;
            case IAggregateReply reply:
                OnReply(reply);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Begin(Run run)
    {
        _run = run;
        var plan = run.Plan;
        if (plan.TotalRequests is { } total)
        {
            _sentAt = plan.OnReply is null ? null : new long[total];
            _phase = Phase.Measure;
            _start = Mark.Now(0);
        }
        else
        {
            _phase = Phase.Warmup;
            _phaseEnds = Stopwatch.GetTimestamp() + (long)(plan.Warmup.TotalSeconds * Stopwatch.Frequency);
        }
        var first = plan.TotalRequests is { } n ? Math.Min(n, plan.InFlight) : plan.InFlight;
        for (var i = 0; i < first; i++) SendNext();
    }

    private void SendNext()
    {
        var key = (int)_sent++;
        _outstanding++;
        if (_sentAt is not null) _sentAt[key] = Stopwatch.GetTimestamp();
        _run!.Approach.Send(new Aggregate<int>(key) { RequestId = key.ToString(CultureInfo.InvariantCulture) }, Self);
    }

    private void OnReply(IAggregateReply reply)
    {
        var run = _run!;
        var plan = run.Plan;
        _outstanding--;
        _completed++;
        if (!plan.Expected(reply) && _unexpected++ == 0) _firstUnexpected = reply;
        if (plan.OnReply is { } observe)
        {
            var key = int.Parse(reply.RequestId, CultureInfo.InvariantCulture);
            observe(key, reply, _sentAt![key], Stopwatch.GetTimestamp());
        }

        if (plan.TotalRequests is { } total)
        {
            if (_sent < total) SendNext();
            else if (_outstanding == 0) Finish(Mark.Now(_completed));
            return;
        }

        // A phase ends when its time is up and enough generations of in-flight requests have completed in it (one for the
        // warm-up, three for the window), so slow cells (fan-out 100 of the per-request actor versions) measure steady
        // state rather than the edges of a few waves.
        if (_phase != Phase.Drain && Stopwatch.GetTimestamp() >= _phaseEnds
            && _completed - _phaseStartCompleted >= (_phase == Phase.Warmup ? 1 : 3) * plan.InFlight)
        {
            _phaseStartCompleted = _completed;
            if (_phase == Phase.Warmup)
            {
                _start = Mark.Now(_completed);
                _phase = Phase.Measure;
                _phaseEnds = _start.Timestamp + (long)(plan.Measure.TotalSeconds * Stopwatch.Frequency);
            }
            else
            {
                _end = Mark.Now(_completed);
                _phase = Phase.Drain;
            }
        }
        if (_phase != Phase.Drain) SendNext();
        else if (_outstanding == 0) Finish(_end);
    }

    private void Finish(Mark end)
    {
        var report = new LoadReport(end.Completed - _start.Completed, Stopwatch.GetElapsedTime(_start.Timestamp, end.Timestamp),
            end.Allocated - _start.Allocated, end.Gen0 - _start.Gen0, end.Gen1 - _start.Gen1, end.Gen2 - _start.Gen2,
            _unexpected, _firstUnexpected);
        _run!.Done.TrySetResult(report);
        Context.Stop(Self);
    }
}
