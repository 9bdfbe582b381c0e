using System.Diagnostics;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// One hedged fetch (<see cref="HedgingPolicy"/>), run as the task of its fetcher's actor: attempts start one after another,
/// each after the hedging delay or at once after a failure, and the first success wins. Every attempt has its own token,
/// linked to the fetch's; a loser's fires with <see cref="CancellationCauseKind.AttemptLost"/> naming the winner. An attempt
/// still running when the fetch ends (it lost, or the fetch's token fired) is watched like a lingering fetch: the leak
/// report shows it until it finishes, and it is counted abandoned if it ignores its token past the grace period.
/// </summary>
internal sealed class HedgedFetch<TKey, TPart>
{
    private readonly FetcherSetup<TKey> _setup;
    private readonly string _fetcher;
    private readonly HedgingPolicy _policy;
    private readonly AttemptCounter _attempts;
    private readonly CancellationToken _token;
    private readonly ICauseSource _causes;
    private readonly Func<CancellationToken, ICauseSource, int, Task<TPart>> _attempt;
    private readonly List<Attempt> _running;
    private readonly bool _optional;

    private HedgedFetch(FetcherSetup<TKey> setup, string fetcher, HedgingPolicy policy, AttemptCounter attempts, CancellationToken token,
        ICauseSource causes, Func<CancellationToken, ICauseSource, int, Task<TPart>> attempt, bool optional)
    {
        _setup = setup;
        _fetcher = fetcher;
        _policy = policy;
        _attempts = attempts;
        _token = token;
        _causes = causes;
        _attempt = attempt;
        _running = new List<Attempt>(policy.MaxAttempts);
        _optional = optional;
    }

    /// <summary>Runs the fetch: its part, or the last failure with the attempt count (<see cref="AttemptsExhaustedException"/>).</summary>
    public static Task<TPart> Run(FetcherSetup<TKey> setup, string fetcher, int index, bool optional, HedgingPolicy policy, AttemptCounter attempts,
        CancellationToken token, ICauseSource causes, Func<CancellationToken, ICauseSource, int, Task<TPart>> attempt) =>
        new HedgedFetch<TKey, TPart>(setup, fetcher, policy, attempts, token, causes, attempt, optional).RunAsync(setup.Runtime.Latencies?[index]);

    private async Task<TPart> RunAsync(LatencyWindow? latencies)
    {
        var delay = latencies?.DelayOr(_policy.Delay, _policy.MinSamples) ?? _policy.Delay;
        var log = _setup.Runtime.Log;
        var requestId = _setup.Scope.RequestId;
        Exception? last = null;
        try
        {
            TryLaunch(delay, hedge: false);
            while (true)
            {
                using var wait = _attempts.Started < _policy.MaxAttempts ? CancellationTokenSource.CreateLinkedTokenSource(_token) : null;
                var hedge = wait is null ? null : Task.Delay(delay, wait.Token);
                var done = await Task.WhenAny(Waiting(hedge)).ConfigureAwait(false);
                wait?.Cancel();
                if (ReferenceEquals(done, hedge))
                {
                    // The delay passed (or the fetch's token fired, and the attempts' tokens with it: wait for them to end).
                    if (!_token.IsCancellationRequested) TryLaunch(delay, hedge: true);
                    if (_running.Count == 0) throw last ?? new OperationCanceledException(_token);
                    continue;
                }

                var finished = Take(done);
                if (finished.Task.IsCompletedSuccessfully)
                {
                    var part = finished.Task.Result;
                    RecordLatency(latencies, finished);
                    var winner = finished.TakeSpan();
                    foreach (var loser in _running) loser.Lose(finished.Number, winner?.Context ?? default);
                    FetchTelemetry.Succeeded(winner);
                    if (log.IsDebugEnabled && finished.Number > 1)
                        TracedLog.Write(log, winner, LogLevel.DebugLevel, "Fetch {Fetcher} of {RequestId} attempt {Attempt} won; {Losers} other attempt(s) cancelled",
                            _fetcher, requestId, finished.Number, _running.Count);
                    return part;
                }

                last = finished.Error();
                // The fetch's own token fired (the request ended, or its own budget ran out): no more attempts; its outcome is moot.
                if (_token.IsCancellationRequested)
                {
                    finished.EndCancelled("cancelled");
                    if (_running.Count == 0) throw last;
                    continue;
                }
                var left = _running.Count;
                if (TryLaunch(delay, hedge: false)) left = -1;
                var final = _running.Count == 0;
                var span = finished.TakeSpan();
                // The last failure, with nothing left to replace it, is the part's: the siblings it cancels link to its span.
                if (final && !_optional && span is not null) _setup.Scope.FailedSpan = span;
                FetchTelemetry.Failed(span, last, decisive: final && !_optional);
                if (log.IsWarningEnabled)
                    TracedLog.Write(log, span, LogLevel.WarningLevel, "Fetch {Fetcher} of {RequestId} attempt {Attempt} of {MaxAttempts} failed ({Error}); {Next}",
                        _fetcher, requestId, finished.Number, _policy.MaxAttempts, Errors.MessageOf(last),
                        left < 0 ? $"attempt {_attempts.Started} started" : left > 0 ? $"{left} attempt(s) still running" : "no attempt left");
                if (_running.Count == 0) throw new AttemptsExhaustedException(_attempts.Started, last);
            }
        }
        finally
        {
            // Attempts still running (the fetch's token fired, or they lost): watched until they end.
            foreach (var orphan in _running) orphan.Orphaned();
            _running.Clear();
        }
    }

    private IEnumerable<Task> Waiting(Task? hedge)
    {
        foreach (var attempt in _running) yield return attempt.Task;
        if (hedge is not null) yield return hedge;
    }

    private Attempt Take(Task done)
    {
        for (var i = 0; i < _running.Count; i++)
        {
            if (!ReferenceEquals(_running[i].Task, done)) continue;
            var attempt = _running[i];
            _running.RemoveAt(i);
            return attempt;
        }
        throw new InvalidOperationException("A finished attempt was not running.");
    }

    /// <summary>
    /// Starts the next attempt, unless none is left, the fetch's token fired (the request was decided), or the request's
    /// deadline passed. Checked before every start; a decision racing a start finds the new attempt's token already fired.
    /// </summary>
    private bool TryLaunch(TimeSpan delay, bool hedge)
    {
        var scope = _setup.Scope;
        if (_attempts.Started >= _policy.MaxAttempts || _token.IsCancellationRequested || scope.IsEnded || scope.Remaining <= TimeSpan.Zero)
            return false;
        var number = _attempts.Next();
        var attempt = new Attempt(this, number);
        _running.Add(attempt);
        attempt.Start();
        var log = _setup.Runtime.Log;
        if (number > 1 && log.IsDebugEnabled)
            log.Debug("Fetch {Fetcher} of {RequestId} attempt {Attempt} started {Why}", _fetcher, scope.RequestId, number,
                hedge ? $"after {LogValues.Milliseconds(delay)} ms without an answer" : "after a failure");
        return true;
    }

    /// <summary>The first attempt's latency, for a percentile delay: its own when it won; the time it had run when a hedge beat it (a lower bound).</summary>
    private void RecordLatency(LatencyWindow? latencies, Attempt winner)
    {
        if (latencies is null) return;
        if (winner.Number == 1) latencies.Record(winner.Elapsed);
        else if (_running.Find(a => a.Number == 1) is { } first) latencies.Record(first.Elapsed);
    }

    /// <summary>One attempt: its token, its cause, and, once orphaned, its watch as a lingering fetch.</summary>
    private sealed class Attempt(HedgedFetch<TKey, TPart> fetch, int number) : ICauseSource, ILingeringFetch
    {
        private readonly HedgedFetch<TKey, TPart> _owner = fetch;
        private readonly CancellationTokenSource _source = CancellationTokenSource.CreateLinkedTokenSource(fetch._token);
        private readonly long _started = Stopwatch.GetTimestamp();
        private CancellationCause? _lost;
        private ActivityContext _winner;   // the winning attempt's span, for a loser's link
        private long _firedAt;             // when its token fired because it lost
        private long _orphaned;
        private int _abandoned;
        private Activity? _span;

        public int Number { get; } = number;
        public Task<TPart> Task { get; private set; } = null!;
        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

        public CancellationCause? Cause => Volatile.Read(ref _lost) ?? _owner._causes.Cause;
        public TimeSpan? PartRemaining => _owner._causes.PartRemaining;

        public Activity? StartAttemptSpan(int attempt)
        {
            var scope = _owner._setup.Scope;
            return _span = FetchTelemetry.Start(scope.Span, _owner._setup.Runtime, _owner._fetcher, scope.RequestId, attempt);
        }

        public Activity? TakeSpan() => Interlocked.Exchange(ref _span, null);

        /// <summary>It ended after its token fired: its span says why, linked to the winner's or the failing sibling's.</summary>
        public void EndCancelled(string outcome, TimeSpan? late = null)
        {
            var cause = Cause;
            var link = cause?.Kind switch
            {
                CancellationCauseKind.AttemptLost => _winner,
                CancellationCauseKind.SiblingFailed => _owner._setup.Scope.FailedSpan?.Context ?? default,
                _ => default,
            };
            FetchTelemetry.Cancelled(TakeSpan(), cause, link, FiredAt, outcome, late);
        }
        public string RequestId => _owner._setup.Scope.RequestId;
        public string Fetcher => _owner._fetcher;
        public long StoppedTimestamp => Interlocked.Read(ref _orphaned);

        /// <summary>When its token fired: when it lost, else when its request ended; 0 if neither yet.</summary>
        private long FiredAt => Interlocked.Read(ref _firedAt) is var lost and not 0 ? lost : _owner._setup.Scope.EndedTimestamp;
        public bool IsAbandoned => Volatile.Read(ref _abandoned) == 1;

        public void Start()
        {
            try
            {
                Task = _owner._attempt(_source.Token, this, Number)
                    ?? System.Threading.Tasks.Task.FromException<TPart>(new InvalidOperationException($"Fetcher '{_owner._fetcher}' returned a null Task."));
            }
            catch (Exception e)
            {
                Task = System.Threading.Tasks.Task.FromException<TPart>(e);
            }
        }

        /// <summary>What the finished attempt threw: the very exception.</summary>
        public Exception Error()
        {
            _source.Dispose();
            try
            {
                Task.GetAwaiter().GetResult();
                return new InvalidOperationException("The attempt succeeded.");
            }
            catch (Exception e)
            {
                return e;
            }
        }

        /// <summary>Another attempt won: the cause first, then the token, so the attempt sees both.</summary>
        public void Lose(int winner, ActivityContext winnerSpan)
        {
            _winner = winnerSpan;
            Volatile.Write(ref _lost, CancellationCause.AttemptLost(_owner._fetcher, winner));
            Interlocked.Exchange(ref _firedAt, Stopwatch.GetTimestamp());
            try
            {
                _source.Cancel();
            }
            catch (AggregateException e)
            {
                _owner._setup.Runtime.Log.Warning(e, "A cancellation callback of fetch {Fetcher} of {RequestId} attempt {Attempt} threw", Fetcher, RequestId, Number);
            }
        }

        /// <summary>The fetch is over while this attempt runs: watched as lingering until it ends, abandoned past the grace period.</summary>
        public void Orphaned()
        {
            var runtime = _owner._setup.Runtime;
            Interlocked.Exchange(ref _orphaned, Stopwatch.GetTimestamp());
            runtime.Counters.LingeringStarted(this);
            Task.ContinueWith(static (t, state) => ((Attempt)state!).OrphanEnded(t), this,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            runtime.Scheduler.Advanced.ScheduleOnce(runtime.Settings.AbandonedFetchGrace, () =>
            {
                if (Task.IsCompleted || Interlocked.Exchange(ref _abandoned, 1) == 1) return;
                runtime.Counters.FetchAbandoned();
                FetchTelemetry.RecordAbandoned(runtime, Fetcher);
                if (TakeSpan() is { } span)
                {
                    _abandonedSpan = span;
                    Interlocked.Exchange(ref _span, span);
                    EndCancelled("abandoned");
                }
                runtime.Log.Warning("Fetch {Fetcher} of {RequestId} attempt {Attempt} ignored its cancellation for {GraceMs} ms and is abandoned",
                    Fetcher, RequestId, Number, runtime.Settings.AbandonedFetchGrace.TotalMilliseconds);
            });
        }

        private Activity? _abandonedSpan;

        /// <summary>An orphaned attempt ended: observed, out of the leak report, its span ended (or its late completion recorded).</summary>
        private void OrphanEnded(Task<TPart> task)
        {
            _ = task.Exception; // observed: a loser's fault is never an unobserved task exception
            var runtime = _owner._setup.Runtime;
            runtime.Counters.LingeringEnded(this);
            _source.Dispose();
            FetchTelemetry.RecordCancellation(runtime, Fetcher, FiredAt);
            var late = Stopwatch.GetElapsedTime(StoppedTimestamp);
            if (Volatile.Read(ref _abandoned) == 1) FetchTelemetry.LateCompletion(_abandonedSpan, Fetcher, late, failed: !task.IsCompletedSuccessfully);
            else EndCancelled(Volatile.Read(ref _lost) is null ? "cancelled" : "lost", late);
        }
    }
}
