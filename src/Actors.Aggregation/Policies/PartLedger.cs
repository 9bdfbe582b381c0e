namespace Actors.Aggregation;

/// <summary>Where one part stands.</summary>
internal enum PartState : byte
{
    /// <summary>Not started yet (bounded concurrency).</summary>
    Waiting,

    /// <summary>Its fetcher actor runs it.</summary>
    Running,

    /// <summary>Its value is in.</summary>
    Succeeded,

    /// <summary>It failed; its <see cref="FetcherFailed"/> is kept.</summary>
    Failed,

    /// <summary>An optional part that failed or ran out of time: its fallback stands in for it, and why is kept.</summary>
    FellBack,
}

/// <summary>
/// The per-part bookkeeping of one request: which parts run, which are in, which failed and in what order. A plain class
/// with no actor code: the coordinator writes it, the policies read it. Each part moves Waiting → Running → Succeeded or
/// Failed, once (an optional part: Succeeded or FellBack); an outcome for a part that is not running is refused (returns false).
/// </summary>
internal sealed class PartLedger
{
    private readonly IReadOnlyList<string> _names;
    private readonly PartState[] _states;
    private readonly object?[] _values;
    private readonly Fallback?[]? _fallbacks;
    private AttemptCounter?[]? _attempts;
    private FetcherFailed?[]? _errors;
    private List<FetcherFailed>? _failures;
    private int _requiredPending;

    /// <param name="names">The parts' names, in declared order.</param>
    /// <param name="fallbacks">Each part's fallback (null for a required part), or null when every part is required.</param>
    public PartLedger(IReadOnlyList<string> names, Fallback?[]? fallbacks = null)
    {
        _names = names;
        _states = new PartState[names.Count];
        _values = new object?[names.Count];
        _fallbacks = fallbacks;
        _requiredPending = names.Count;
        if (fallbacks is not null)
            foreach (var fallback in fallbacks)
                if (fallback is not null) _requiredPending--;
    }

    public int Count => _states.Length;
    public int Succeeded { get; private set; }
    public int Failed { get; private set; }
    public int FellBack { get; private set; }
    public int Running { get; private set; }
    public bool AllSucceeded => Succeeded == Count;

    /// <summary>Every part is in: succeeded, or fell back.</summary>
    public bool AllIn => Succeeded + FellBack == Count;

    public bool AllFinished => Succeeded + Failed + FellBack == Count;

    /// <summary>Required parts still running or waiting: when none is left, only optional parts hold the request up.</summary>
    public int RequiredPending => _requiredPending;

    /// <summary>True when part <paramref name="index"/> is optional (it has a fallback).</summary>
    public bool IsOptional(int index) => _fallbacks?[index] is not null;

    /// <summary>Every failure so far, in the order they were recorded.</summary>
    public IReadOnlyList<FetcherFailed> Failures => (IReadOnlyList<FetcherFailed>?)_failures ?? [];

    public PartState this[int index] => _states[index];

    /// <summary>The part starts; <paramref name="attempts"/> counts its attempts when it may make more than one.</summary>
    public void Start(int index, AttemptCounter? attempts = null)
    {
        if (_states[index] != PartState.Waiting) throw new InvalidOperationException($"Part '{_names[index]}' started twice.");
        _states[index] = PartState.Running;
        if (attempts is not null) (_attempts ??= new AttemptCounter?[_states.Length])[index] = attempts;
        Running++;
    }

    /// <summary>Attempts part <paramref name="index"/> has started: 0 before it starts, 1 unless it is retried.</summary>
    private int AttemptsOf(int index) =>
        _states[index] == PartState.Waiting ? 0 : _attempts?[index]?.Started is { } started and > 0 ? started : 1;

    public bool Succeed(int index, object? value)
    {
        if (_states[index] != PartState.Running) return false;
        _states[index] = PartState.Succeeded;
        _values[index] = value;
        Running--;
        Succeeded++;
        if (!IsOptional(index)) _requiredPending--;
        return true;
    }

    public bool Fail(int index, FetcherFailed failure)
    {
        if (_states[index] != PartState.Running) return false;
        _states[index] = PartState.Failed;
        (_errors ??= new FetcherFailed?[_states.Length])[index] = failure;
        (_failures ??= []).Add(failure);
        Running--;
        Failed++;
        _requiredPending--;
        return true;
    }

    /// <summary>An optional part that failed (<paramref name="why"/> holds its failure) or ran out of its own budget: its fallback stands in.</summary>
    public bool FallBack(int index, FetcherFailed why)
    {
        if (_states[index] != PartState.Running || _fallbacks?[index] is not { } fallback) return false;
        _states[index] = PartState.FellBack;
        _values[index] = fallback.Value;
        (_errors ??= new FetcherFailed?[_states.Length])[index] = why;
        Running--;
        FellBack++;
        return true;
    }

    /// <summary>
    /// The request is decided with its required parts in: every optional part still running or waiting falls back, because
    /// the request's deadline (<paramref name="budget"/>) passed or because nothing else was needed.
    /// </summary>
    public void SettleOptional(TimeSpan budget)
    {
        if (_fallbacks is null) return;
        for (var i = 0; i < _states.Length; i++)
        {
            if (_fallbacks[i] is not { } fallback || _states[i] is not (PartState.Running or PartState.Waiting)) continue;
            var started = _states[i] == PartState.Running;
            (_errors ??= new FetcherFailed?[_states.Length])[i] =
                new FetcherFailed(_names[i], PartTimeoutException.RequestDeadline(_names[i], budget, started)) { Attempts = AttemptsOf(i) };
            if (started) Running--;
            _states[i] = PartState.FellBack;
            _values[i] = fallback.Value;
            FellBack++;
        }
    }

    /// <summary>The fetchers not finished (running or waiting), in declared order.</summary>
    public string[] Pending()
    {
        var pending = new List<string>(_states.Length - Succeeded - Failed - FellBack);
        for (var i = 0; i < _states.Length; i++)
            if (_states[i] is PartState.Running or PartState.Waiting) pending.Add(_names[i]);
        return pending.ToArray();
    }

    /// <summary>Every part's outcome, in declared order; parts still running are timed out, parts waiting never started.</summary>
    public PartOutcome[] Outcomes()
    {
        var outcomes = new PartOutcome[_states.Length];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = _states[i] switch
            {
                PartState.Succeeded => new PartOutcome(_names[i], PartStatus.Succeeded, _values[i], null) { Attempts = AttemptsOf(i) },
                PartState.Failed => new PartOutcome(_names[i], PartStatus.Failed, null, _errors![i]!.Exception) { Attempts = _errors[i]!.Attempts },
                PartState.FellBack => FellBackOutcome(i),
                PartState.Running => new PartOutcome(_names[i], PartStatus.TimedOut, null, null) { Attempts = AttemptsOf(i) },
                _ => new PartOutcome(_names[i], PartStatus.NotStarted, null, null) { Attempts = 0 },
            };
        }
        return outcomes;
    }

    /// <summary>The optional parts that fell back, in declared order; empty when none did.</summary>
    public IReadOnlyList<PartOutcome> FellBackOutcomes()
    {
        if (FellBack == 0) return [];
        var outcomes = new PartOutcome[FellBack];
        var next = 0;
        for (var i = 0; i < _states.Length; i++)
            if (_states[i] == PartState.FellBack) outcomes[next++] = FellBackOutcome(i);
        return outcomes;
    }

    private PartOutcome FellBackOutcome(int index) =>
        new(_names[index], PartStatus.FellBack, _values[index], _errors![index]!.Exception) { Attempts = _errors[index]!.Attempts };

    /// <summary>What <c>Combine</c> sees: the parts that succeeded and the fallback values, by name and in declared order.</summary>
    public AggregationParts Parts()
    {
        if (AllSucceeded) return new AggregationParts(_names, _values);
        var present = new bool[_states.Length];
        bool[]? fellBack = FellBack > 0 ? new bool[_states.Length] : null;
        for (var i = 0; i < present.Length; i++)
        {
            present[i] = _states[i] == PartState.Succeeded || (_states[i] == PartState.FellBack && _fallbacks![i]!.HasValue);
            if (fellBack is not null) fellBack[i] = _states[i] == PartState.FellBack;
        }
        return new AggregationParts(_names, _values, present, fellBack);
    }
}
