using System.Text;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>What one generated fetcher does. The first value is the simplest: shrinking moves towards it.</summary>
public enum Behaviour
{
    /// <summary>Honours its token; returns its part (text, or null) at its time.</summary>
    Succeeds,

    /// <summary>Honours its token; faults at its time.</summary>
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

/// <summary>One generated fetcher. <see cref="At"/> is set for the behaviours that act at a time of their own.</summary>
public sealed record FetcherCase(int Index, Behaviour Behaviour, TimeSpan? At, bool NullPart, bool LateFault)
{
    public string Name => $"f{Index}";

    public override string ToString() => Behaviour switch
    {
        Behaviour.Succeeds => $"{Name} succeeds at {Scenario.Ms(At)}{(NullPart ? " with a null part" : "")}",
        Behaviour.Faults => $"{Name} faults at {Scenario.Ms(At)}",
        Behaviour.ThrowsBeforeFirstAwait => $"{Name} throws before its first await",
        Behaviour.ReturnsNullTask => $"{Name} returns a null Task",
        Behaviour.HangsHonouringToken => $"{Name} hangs, honouring its token",
        _ => $"{Name} hangs, ignoring its token (then {(LateFault ? "faults" : "returns")} late)",
    };
}

/// <summary>One generated request: its fetchers (1 to 8), its deadline, and what may interrupt it.</summary>
public sealed record RequestCase(int Number, IReadOnlyList<FetcherCase> Fetchers, TimeSpan Deadline, Interruption Interruption, TimeSpan? InterruptAt)
{
    public Expected Expected => ReferenceModel.Expect(this);

    public override string ToString()
    {
        var interruption = Interruption switch
        {
            Interruption.Cancel => $", CancelAggregate at {Scenario.Ms(InterruptAt)}",
            Interruption.RequesterDies => $", requester dies at {Scenario.Ms(InterruptAt)}",
            _ => "",
        };
        return $"request #{Number}: {Fetchers.Count} fetcher(s) [{string.Join("; ", Fetchers)}], deadline {Scenario.Ms(Deadline)}{interruption}"
            + $"\n      expected: {Expected}";
    }
}

/// <summary>One generated case: requests sent at once to fresh aggregators (one per fetcher count) and run concurrently.</summary>
public sealed record Scenario(IReadOnlyList<RequestCase> Requests)
{
    /// <summary>Gap between any two timed events of a request: generous, so their order survives a noisy machine.</summary>
    public static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(300);

    /// <summary>How long a token-ignoring fetch keeps running after its token fired: three abandoned-fetch graces.</summary>
    public static TimeSpan IgnorerTail { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The latest time any request of the scenario is decided.</summary>
    public TimeSpan Horizon => Requests.Max(r => r.Deadline);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Requests.Count).Append(" concurrent request(s)");
        foreach (var request in Requests) text.Append("\n   ").Append(request);
        return text.ToString();
    }

    internal static string Ms(TimeSpan? t) => t is { } v ? $"{v.TotalMilliseconds:0} ms" : "?";
}
