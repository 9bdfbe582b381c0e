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
}

/// <summary>
/// The per-part bookkeeping of one request: which parts run, which are in, which failed and in what order. A plain class
/// with no actor code: the coordinator writes it, the policies read it. Each part moves Waiting → Running → Succeeded or
/// Failed, once; an outcome for a part that is not running is refused (returns false).
/// </summary>
internal sealed class PartLedger
{
    private readonly IReadOnlyList<string> _names;
    private readonly PartState[] _states;
    private readonly object?[] _values;
    private AttemptCounter?[]? _attempts;
    private FetcherFailed?[]? _errors;
    private List<FetcherFailed>? _failures;

    public PartLedger(IReadOnlyList<string> names)
    {
        _names = names;
        _states = new PartState[names.Count];
        _values = new object?[names.Count];
    }

    public int Count => _states.Length;
    public int Succeeded { get; private set; }
    public int Failed { get; private set; }
    public int Running { get; private set; }
    public bool AllSucceeded => Succeeded == Count;
    public bool AllFinished => Succeeded + Failed == Count;

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
        return true;
    }

    /// <summary>The fetchers not finished (running or waiting), in declared order.</summary>
    public string[] Pending()
    {
        var pending = new List<string>(_states.Length - Succeeded - Failed);
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
                PartState.Running => new PartOutcome(_names[i], PartStatus.TimedOut, null, null) { Attempts = AttemptsOf(i) },
                _ => new PartOutcome(_names[i], PartStatus.NotStarted, null, null) { Attempts = 0 },
            };
        }
        return outcomes;
    }

    /// <summary>What <c>Combine</c> sees: the parts that succeeded, by name and in declared order.</summary>
    public AggregationParts Parts()
    {
        if (AllSucceeded) return new AggregationParts(_names, _values);
        var present = new bool[_states.Length];
        for (var i = 0; i < present.Length; i++) present[i] = _states[i] == PartState.Succeeded;
        return new AggregationParts(_names, _values, present);
    }
}
