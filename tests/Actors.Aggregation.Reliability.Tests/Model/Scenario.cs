using System.Text;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>What one attempt of a generated fetcher does. The first value is the simplest: shrinking moves towards it.</summary>
public enum Behaviour
{
    /// <summary>Honours its token; returns its part (text, or null) after its duration.</summary>
    Succeeds,

    /// <summary>Honours its token; faults after its duration.</summary>
    Faults,

    /// <summary>Throws synchronously, before its first await.</summary>
    ThrowsBeforeFirstAwait,

    /// <summary>Returns a null <see cref="Task"/> instead of a task.</summary>
    ReturnsNullTask,

    /// <summary>Never finishes on its own; ends as soon as its token fires.</summary>
    HangsHonouringToken,

    /// <summary>
    /// Never finishes on its own and ignores its token: it keeps running for <see cref="Scenario.IgnorerTail"/> after the token
    /// fired (well beyond the abandoned-fetch grace), then returns or faults, and that late outcome must be dropped.
    /// </summary>
    HangsIgnoringToken,
}

/// <summary>What happens to a request from outside, besides its deadline.</summary>
public enum Interruption
{
    None,

    /// <summary>The test sends <see cref="CancelAggregate"/> for the request at its time.</summary>
    Cancel,

    /// <summary>The requester actor is stopped at its time.</summary>
    RequesterDies,
}

public enum PolicyKind
{
    FailFast,
    CollectAll,

    /// <summary><see cref="CompletionPolicy.Quorum"/>; with one success required it is <see cref="CompletionPolicy.FirstSuccess"/>.</summary>
    Quorum,
}

/// <summary>A request's completion policy; <see cref="Required"/> only for <see cref="PolicyKind.Quorum"/>.</summary>
public sealed record PolicyCase(PolicyKind Kind, int Required = 0)
{
    public static readonly PolicyCase FailFast = new(PolicyKind.FailFast);
    public static readonly PolicyCase CollectAll = new(PolicyKind.CollectAll);

    public CompletionPolicy ToLibrary() => Kind switch
    {
        PolicyKind.FailFast => CompletionPolicy.FailFast,
        PolicyKind.CollectAll => CompletionPolicy.CollectAll,
        _ => Required == 1 ? CompletionPolicy.FirstSuccess : CompletionPolicy.Quorum(Required),
    };

    public override string ToString() => Kind switch
    {
        PolicyKind.Quorum => Required == 1 ? "FirstSuccess" : $"Quorum({Required})",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// A fetcher's <see cref="RetryPolicy"/>: no jitter, backoffs on the gap grid (<see cref="BackoffSlots"/> gaps, times
/// <see cref="Multiplier"/> per failed attempt), far below the library's 5 s cap.
/// </summary>
public sealed record RetryCase(int MaxAttempts, int BackoffSlots, int Multiplier)
{
    /// <summary>The backoff after failed attempt <paramref name="attempt"/> (1-based), in gaps.</summary>
    public int BackoffAfter(int attempt)
    {
        var slots = BackoffSlots;
        for (var i = 1; i < attempt; i++) slots *= Multiplier;
        return slots;
    }

    public RetryPolicy ToLibrary() =>
        new(MaxAttempts) { InitialBackoff = Scenario.Gap * BackoffSlots, Multiplier = Multiplier, Jitter = 0 };

    public override string ToString() =>
        $"retry: {MaxAttempts} attempts, backoff {Scenario.Ms(Scenario.Gap * BackoffSlots)}{(Multiplier > 1 ? $" ×{Multiplier}" : "")}";
}

/// <summary>One attempt of a fetcher: what it does and, for <see cref="Behaviour.Succeeds"/> and <see cref="Behaviour.Faults"/>, after how many gaps.</summary>
public sealed record AttemptScript(Behaviour Behaviour, int Slots)
{
    public TimeSpan Duration => Scenario.Gap * Slots;

    /// <summary>Fails (or would succeed) the moment it starts, without a timer of its own.</summary>
    public bool IsImmediate => Behaviour is Behaviour.ThrowsBeforeFirstAwait or Behaviour.ReturnsNullTask;

    public bool IsTimed => Behaviour is Behaviour.Succeeds or Behaviour.Faults;

    public string Describe(bool lateFault, bool nullPart) => Behaviour switch
    {
        Behaviour.Succeeds => $"succeeds after {Scenario.Ms(Duration)}{(nullPart ? " with a null part" : "")}",
        Behaviour.Faults => $"faults after {Scenario.Ms(Duration)}",
        Behaviour.ThrowsBeforeFirstAwait => "throws before its first await",
        Behaviour.ReturnsNullTask => "returns a null Task",
        Behaviour.HangsHonouringToken => "hangs, honouring its token",
        _ => $"hangs, ignoring its token (then {(lateFault ? "faults" : "returns")} late)",
    };
}

/// <summary>
/// One generated fetcher: the script of its attempts (one without a retry policy; attempt n runs <c>Script[n - 1]</c>; a
/// script ends at its first attempt that succeeds or hangs), its retry policy if any. Durations count from the attempt's start,
/// so under a concurrency limit from the fetcher's own start, which the model simulates.
/// </summary>
public sealed record FetcherCase(int Index, IReadOnlyList<AttemptScript> Script, RetryCase? Retry, bool NullPart, bool LateFault)
{
    public string Name => $"f{Index}";

    public int MaxAttempts => Retry?.MaxAttempts ?? 1;

    /// <summary>Whether a failure of attempt <paramref name="attempt"/> may be retried at all (budget left), deadline aside.</summary>
    public bool MayRetryAfter(int attempt) => Retry is not null && attempt < Retry.MaxAttempts;

    /// <summary>For the definition cache: fetchers with equal retry policies share a definition.</summary>
    public string RetryKey => Retry is null ? "-" : $"{Retry.MaxAttempts}/{Retry.BackoffSlots}x{Retry.Multiplier}";

    public override string ToString()
    {
        var steps = string.Join("; then ", Script.Select(s => s.Describe(LateFault, NullPart)));
        return Retry is null ? $"{Name} {steps}" : $"{Name} ({Retry}) {steps}";
    }
}

/// <summary>
/// One generated request: its policy, concurrency limit, fetchers (1 to 8), deadline, and what may interrupt it. Times are
/// whole multiples of <see cref="Scenario.Gap"/> ("slots"); the generator repairs a request until no two events that decide
/// or change its outcome share a slot (see <see cref="ReferenceModel.Simulate"/>).
/// </summary>
public sealed record RequestCase(
    int Number,
    PolicyCase Policy,
    int? Limit,
    IReadOnlyList<FetcherCase> Fetchers,
    int DeadlineSlot,
    Interruption Interruption,
    int? InterruptSlot)
{
    private Prediction? _prediction;

    public TimeSpan Deadline => Scenario.Gap * DeadlineSlot;

    public TimeSpan? InterruptAt => InterruptSlot is { } slot ? Scenario.Gap * slot : null;

    /// <summary>The limit as the library applies it: none when it is not below the fetcher count.</summary>
    public int? EffectiveLimit => Limit is { } limit && limit < Fetchers.Count ? limit : null;

    /// <summary>What the reference model predicts (computed once; it does not depend on <see cref="Number"/>).</summary>
    public Prediction Prediction => _prediction ??= ReferenceModel.Simulate(this).Prediction;

    public Expected Expected => Prediction.Expected;

    /// <summary>Requests with equal keys share an aggregation definition.</summary>
    public string DefinitionKey => $"{Fetchers.Count}|{Policy}|{Limit?.ToString() ?? "-"}|{string.Join(",", Fetchers.Select(f => f.RetryKey))}";

    public override string ToString()
    {
        var interruption = Interruption switch
        {
            Interruption.Cancel => $", CancelAggregate at {Scenario.Ms(InterruptAt)}",
            Interruption.RequesterDies => $", requester dies at {Scenario.Ms(InterruptAt)}",
            _ => "",
        };
        var shape = $"{Policy}{(Limit is { } limit ? $", max concurrency {limit}" : "")}";
        var prediction = Prediction;
        var fetchers = string.Join("\n         ", Fetchers.Select(f =>
            f + (EffectiveLimit is null ? "" : prediction.StartSlots[f.Index] is { } start ? $"   [starts at {Scenario.Ms(Scenario.Gap * start)}]" : "   [never starts]")));
        return $"request #{Number}: {shape}, {Fetchers.Count} fetcher(s), deadline {Scenario.Ms(Deadline)}{interruption}\n         {fetchers}"
            + $"\n      expected: {Expected} at {Scenario.Ms(Scenario.Gap * prediction.DecisionSlot)}";
    }
}

/// <summary>One generated case: requests sent at once to fresh aggregators (one per definition) and run concurrently.</summary>
public sealed record Scenario(IReadOnlyList<RequestCase> Requests)
{
    /// <summary>Gap between any two timed events of a request that matter: generous, so their order survives a noisy machine.</summary>
    public static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(300);

    /// <summary>How long a token-ignoring fetch keeps running after its token fired: three abandoned-fetch graces.</summary>
    public static TimeSpan IgnorerTail { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The latest time any request of the scenario is decided, or interrupted.</summary>
    public TimeSpan Horizon => Requests.Max(r => r.InterruptAt is { } at && at > r.Deadline ? at : r.Deadline);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Requests.Count).Append(" concurrent request(s)");
        foreach (var request in Requests) text.Append("\n   ").Append(request);
        return text.ToString();
    }

    internal static string Ms(TimeSpan? t) => t is { } v ? $"{v.TotalMilliseconds:0} ms" : "?";
}
