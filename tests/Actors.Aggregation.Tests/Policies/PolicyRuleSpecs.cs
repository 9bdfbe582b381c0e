using Xunit;

namespace Actors.Aggregation.Tests.Policies;

/// <summary>
/// The policies' rules over a <see cref="PartLedger"/>, with no actor in sight: table-driven, as errgroup_test.go is. Each
/// case is a sequence of part outcomes ("a+" succeeds, "b!" fails, "deadline"), played in order until the policy decides.
/// </summary>
public sealed class PolicyRuleSpecs
{
    private static readonly string[] Names = ["a", "b", "c"];

    /// <summary>Plays <paramref name="events"/> against a fresh ledger of a, b, c (all started) and returns the first decision.</summary>
    private static (Verdict Verdict, PartLedger Parts, int Played) Play(CompletionPolicy policy, params string[] events)
    {
        var parts = new PartLedger(Names);
        for (var i = 0; i < Names.Length; i++) parts.Start(i);
        var played = 0;
        foreach (var e in events)
        {
            played++;
            Verdict verdict;
            if (e == "deadline") verdict = policy.OnDeadline(parts, TimeSpan.FromSeconds(1));
            else
            {
                var index = Array.IndexOf(Names, e[..1]);
                if (e[1] == '+')
                {
                    Assert.True(parts.Succeed(index, $"part {e[..1]}"));
                    verdict = policy.OnSuccess(parts);
                }
                else
                {
                    var failure = new FetcherFailed(Names[index], new InvalidOperationException($"{e[..1]} failed"));
                    Assert.True(parts.Fail(index, failure));
                    verdict = policy.OnFailure(parts, failure);
                }
            }
            if (verdict.IsDecided) return (verdict, parts, played);
        }
        return (Verdict.Pending, parts, played);
    }

    private static string Describe(Verdict verdict) => verdict.Kind switch
    {
        VerdictKind.Pending => "pending",
        VerdictKind.Succeed => "succeed",
        VerdictKind.Collect => "collect",
        _ => verdict.Failure switch
        {
            FetcherFailed f => $"failed {f.Fetcher}",
            QuorumNotReached q => $"quorum {q.Required} unreachable: {string.Join(",", q.Failures.Select(f => f.Fetcher))}",
            DeadlineExceeded d => $"deadline, pending {string.Join(",", d.Pending)}",
            var other => other!.Describe(),
        },
    };

    public static TheoryData<string, string[], string, int> Cases => new()
    {
        // FailFast: none failing, one failing, the first of many failing, the deadline.
        { "FailFast", ["a+", "b+", "c+"], "succeed", 3 },
        { "FailFast", ["a+", "b!", "c+"], "failed b", 2 },
        { "FailFast", ["c!", "a!", "b!"], "failed c", 1 },
        { "FailFast", ["a+", "deadline"], "deadline, pending b,c", 2 },
        { "FailFast", ["deadline"], "deadline, pending a,b,c", 1 },
        // CollectAll: failures never decide alone; everything finished, or the deadline, does.
        { "CollectAll", ["a+", "b+", "c+"], "collect", 3 },
        { "CollectAll", ["a!", "b+", "c!"], "collect", 3 },
        { "CollectAll", ["a!", "b!", "c!"], "collect", 3 },
        { "CollectAll", ["a+", "deadline"], "collect", 2 },
        // FirstSuccess: the first success wins; a failure never wins; all failing is unreachable.
        { "FirstSuccess", ["b+"], "succeed", 1 },
        { "FirstSuccess", ["a!", "c+"], "succeed", 2 },
        { "FirstSuccess", ["a!", "b!", "c!"], "quorum 1 unreachable: a,b,c", 3 },
        { "FirstSuccess", ["a!", "deadline"], "deadline, pending b,c", 2 },
        // Quorum(2): two successes; fails as soon as two cannot be reached.
        { "Quorum(2)", ["a+", "c+"], "succeed", 2 },
        { "Quorum(2)", ["a!", "b+", "c+"], "succeed", 3 },
        { "Quorum(2)", ["b!", "a+", "c!"], "quorum 2 unreachable: b,c", 3 },
        { "Quorum(2)", ["c!", "a!"], "quorum 2 unreachable: c,a", 2 },
        { "Quorum(2)", ["a+", "deadline"], "deadline, pending b,c", 2 },
        // Quorum(3) is FailFast's success rule with QuorumNotReached for a failure.
        { "Quorum(3)", ["a+", "b+", "c+"], "succeed", 3 },
        { "Quorum(3)", ["a+", "b!"], "quorum 3 unreachable: b", 2 },
    };

    private static CompletionPolicy PolicyNamed(string name) => name switch
    {
        "FailFast" => CompletionPolicy.FailFast,
        "CollectAll" => CompletionPolicy.CollectAll,
        "FirstSuccess" => CompletionPolicy.FirstSuccess,
        _ => CompletionPolicy.Quorum(int.Parse(name["Quorum(".Length..^1], System.Globalization.CultureInfo.InvariantCulture)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_policy_must_decide_at_the_right_outcome_and_say_why(string policy, string[] events, string expected, int decidedAfter)
    {
        var (verdict, _, played) = Play(PolicyNamed(policy), events);

        Assert.Equal(expected, Describe(verdict));
        Assert.Equal(decidedAfter, played);
    }

    [Fact]
    public void Only_FailFast_must_let_a_failure_end_the_request_by_itself()
    {
        Assert.True(CompletionPolicy.FailFast.FailureEndsRequest);
        Assert.False(CompletionPolicy.CollectAll.FailureEndsRequest);
        Assert.False(CompletionPolicy.FirstSuccess.FailureEndsRequest);
        Assert.False(CompletionPolicy.Quorum(2).FailureEndsRequest);
    }

    [Fact]
    public void Every_decision_must_carry_the_cause_the_tokens_still_running_see()
    {
        Assert.Equal(CancellationCauseKind.RequestCompleted, Play(CompletionPolicy.FirstSuccess, "a+").Verdict.Cause!.Kind);
        Assert.Equal(CancellationCauseKind.RequestCompleted, Play(CompletionPolicy.FailFast, "a+", "b+", "c+").Verdict.Cause!.Kind);
        var failed = Play(CompletionPolicy.FailFast, "b!").Verdict.Cause!;
        Assert.Equal((CancellationCauseKind.SiblingFailed, "b"), (failed.Kind, failed.Fetcher));
        Assert.Equal(CancellationCauseKind.DeadlineExceeded, Play(CompletionPolicy.CollectAll, "deadline").Verdict.Cause!.Kind);
        Assert.Equal(CancellationCauseKind.DeadlineExceeded, Play(CompletionPolicy.Quorum(2), "deadline").Verdict.Cause!.Kind);
    }

    [Fact]
    public void A_verdict_from_the_parts_must_stand_against_a_deadline_and_one_from_the_deadline_must_not_claim_to()
    {
        Assert.True(Play(CompletionPolicy.FailFast, "a+", "b+", "c+").Verdict.RestsOnParts);
        Assert.True(Play(CompletionPolicy.FailFast, "a!").Verdict.RestsOnParts);
        Assert.True(Play(CompletionPolicy.CollectAll, "a!", "b!", "c+").Verdict.RestsOnParts);
        Assert.False(Play(CompletionPolicy.FailFast, "deadline").Verdict.RestsOnParts);
        Assert.False(Play(CompletionPolicy.CollectAll, "a+", "deadline").Verdict.RestsOnParts);
    }

    [Fact]
    public void The_ledger_must_give_combine_only_the_parts_that_succeeded_and_every_outcome_in_declared_order()
    {
        var (_, parts, _) = Play(CompletionPolicy.CollectAll, "c+", "a!", "deadline");

        var combined = parts.Parts();
        Assert.Equal(["c"], combined.Present);
        Assert.Equal("part c", combined.Get<string>("c"));
        Assert.False(combined.Has("a"));
        var outcomes = parts.Outcomes();
        Assert.Equal(["a", "b", "c"], outcomes.Select(o => o.Fetcher));
        Assert.Equal([PartStatus.Failed, PartStatus.TimedOut, PartStatus.Succeeded], outcomes.Select(o => o.Status));
        Assert.Equal("a failed", outcomes[0].Error!.Message);
        Assert.Equal(["b"], parts.Pending());
    }

    [Fact]
    public void The_ledger_must_refuse_a_second_outcome_for_a_part_and_an_outcome_for_a_part_not_running()
    {
        var parts = new PartLedger(Names);
        Assert.False(parts.Succeed(0, "early")); // waiting, not running
        parts.Start(0);
        Assert.True(parts.Succeed(0, "first"));
        Assert.False(parts.Succeed(0, "second"));
        Assert.False(parts.Fail(0, new FetcherFailed("a", new InvalidOperationException())));
        Assert.Throws<InvalidOperationException>(() => parts.Start(0));
        Assert.Equal((1, 0, 0), (parts.Succeeded, parts.Failed, parts.Running));
        Assert.Equal([PartStatus.Succeeded, PartStatus.NotStarted, PartStatus.NotStarted], parts.Outcomes().Select(o => o.Status));
    }
}
