using System.Diagnostics;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>d, e, f. Reply at the first failure, report only the first cause, combine in declared order.</summary>
public sealed class FailFastSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task The_reply_must_not_wait_for_a_sibling_that_ignores_its_token()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stubborn = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "late", stubborn))
            .Fetch("failing", Fetches.FailAfter<int, string>(Ms(100), new InvalidOperationException("boom")))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        var sent = Stopwatch.GetTimestamp();

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("failing", Assert.IsType<FetcherFailed>(reply.Reason).Fetcher);
        // errgroup's Wait would block until "stubborn" returns, which it never does on its own.
        Assert.InRange(MsSince(sent), 90, 3_000);
        await stubborn.WhenCancelled();
        release.SetResult("late");
        await AwaitQuietAsync(aggregator);
    }

    /// <summary>Table-driven, as in errgroup_test.go: none, one, and the first of many failing.</summary>
    public static TheoryData<string, int[], string?> FirstCauseCases => new()
    {
        { "none fail", new[] { 0, 0, 0 }, null },
        { "one fails", new[] { 0, 150, 0 }, "b" },
        { "first of many", new[] { 900, 150, 1500 }, "b" },
        { "all fail, first wins", new[] { 120, 900, 1500 }, "a" },
    };

    [Theory]
    [MemberData(nameof(FirstCauseCases))]
    public async Task The_reason_must_be_the_first_failure_never_a_siblings_cancellation(string name, int[] failAfterMs, string? expected)
    {
        Output.WriteLine(name);
        var builder = Aggregation.For<int>().WithTimeout(TimeSpan.FromSeconds(30));
        var fetchers = new[] { "a", "b", "c" };
        for (var i = 0; i < fetchers.Length; i++)
        {
            var fetcher = fetchers[i];
            builder = failAfterMs[i] > 0
                ? builder.Fetch(fetcher, Fetches.FailAfter<int, string>(Ms(failAfterMs[i]), new InvalidOperationException($"{fetcher} failed")))
                : builder.Fetch(fetcher, expected is null ? Fetches.After<int, string>(Ms(50), fetcher) : Fetches.Hang<int, string>());
        }
        var aggregator = Sys.ActorOf(AggregatorActor.Props(builder.Build()));

        aggregator.Tell(new Aggregate<int>(1));

        if (expected is null)
        {
            Assert.Equal("a | b | c", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        }
        else
        {
            var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
            Assert.Equal(expected, failed.Fetcher);
            Assert.Equal($"{expected} failed", failed.Exception.Message);
            Assert.IsNotType<OperationCanceledException>(failed.Exception);
        }
        await ExpectNoMsgAsync(Ms(500));
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task The_result_must_follow_declared_order_not_completion_order()
    {
        var definition = Aggregation.For<string>()
            .Fetch("slowest", Fetches.After<string, string>(Ms(300), "1"))
            .Fetch("middle", Fetches.After<string, string>(Ms(150), "2"))
            .Fetch("fastest", Fetches.After<string, string>(Ms(1), "3"))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<string>("k"));

        Assert.Equal("1 | 2 | 3", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }

    [Fact]
    public async Task Combine_must_see_parts_by_name_and_in_declared_order()
    {
        var definition = Aggregation.For<int>()
            .Fetch("name", (int id, CancellationToken _) => Task.FromResult($"user-{id}"))
            .Fetch("orders", async (int _, CancellationToken ct) => { await Task.Delay(50, ct); return 5; })
            .Fetch("vip", (int _, CancellationToken _) => Task.FromResult<bool?>(null))
            .Combine(parts => (parts.Get<string>("name"), parts.Get<int>("orders"), parts.Get<bool?>("vip"), string.Join(",", parts.Names), parts.Count))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(42));

        var reply = await ExpectMsgAsync<AggregateSucceeded<(string, int, bool?, string, int)>>(Generous);
        Assert.Equal(("user-42", 5, (bool?)null, "name,orders,vip", 3), reply.Result);
    }

    [Fact]
    public async Task A_combine_that_throws_must_fail_the_request_and_leave_the_aggregator_serving()
    {
        var definition = Aggregation.For<int>()
            .Fetch("n", (int id, CancellationToken _) => Task.FromResult(id))
            .Combine(parts => parts.Get<int>("n") == 0 ? throw new DivideByZeroException("no zero") : 100 / parts.Get<int>("n"))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(0));
        var failed = Assert.IsType<CombineFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        AssertErrorType<DivideByZeroException>(failed.Exception);

        aggregator.Tell(new Aggregate<int>(4));
        Assert.Equal(25, (await ExpectMsgAsync<AggregateSucceeded<int>>(Generous)).Result);
    }
}
