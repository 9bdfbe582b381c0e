using System.Collections.Concurrent;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>errgroup's SetLimit: WithMaxConcurrency(n).</summary>
public sealed class ConcurrencyLimitSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>Counts fetches in flight and remembers the most seen at once.</summary>
    private sealed class Gauge
    {
        private int _current;
        private int _max;
        public int Max => Volatile.Read(ref _max);
        public ConcurrentQueue<string> Starts { get; } = new();

        public Func<int, CancellationToken, Task<string>> Fetch(string name, TimeSpan delay) => async (_, ct) =>
        {
            Starts.Enqueue(name);
            var now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }
            try
            {
                await Task.Delay(delay, ct);
                return name;
            }
            finally
            {
                Interlocked.Decrement(ref _current);
            }
        };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task The_limit_must_never_be_exceeded_and_fetchers_must_start_in_declared_order(int limit)
    {
        var gauge = new Gauge();
        var builder = Aggregation.For<int>().WithMaxConcurrency(limit).WithTimeout(TimeSpan.FromSeconds(30));
        var names = Enumerable.Range(1, 8).Select(i => $"f{i}").ToArray();
        foreach (var name in names) builder = builder.Fetch(name, gauge.Fetch(name, Ms(30)));
        var aggregator = Sys.ActorOf(AggregatorActor.Props(builder.Build()));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal(string.Join(" | ", names), reply.Result);
        Assert.Equal(limit, gauge.Max);
        // Fetcher i starts only once every fetcher declared `limit` or more places before it has started.
        var starts = gauge.Starts.ToArray();
        Assert.Equal(names.Order(), starts.Order());
        for (var position = 0; position < starts.Length; position++)
            Assert.True(Array.IndexOf(names, starts[position]) < position + limit, $"start order {string.Join(",", starts)}");
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Once_the_request_has_failed_no_new_fetcher_must_start()
    {
        var later1 = new TokenProbe();
        var later2 = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("fails", Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("boom")))
            .Fetch("later1", Fetches.After<int, string>(Ms(10), "x", later1))
            .Fetch("later2", Fetches.After<int, string>(Ms(10), "y", later2))
            .WithMaxConcurrency(1)
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("fails", Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Fetcher);
        await AwaitQuietAsync(aggregator);
        Assert.Equal(0, later1.Starts);
        Assert.Equal(0, later2.Starts);
    }

    [Fact]
    public async Task The_deadline_must_name_fetchers_that_never_started_as_pending()
    {
        var definition = Aggregation.For<int>()
            .Fetch("slow", Fetches.Hang<int, string>())
            .Fetch("queued", Fetches.After<int, string>(Ms(1), "q"))
            .WithMaxConcurrency(1)
            .WithTimeout(Ms(300))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var deadline = Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(new[] { "slow", "queued" }, deadline.Pending);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Fetchers_stopped_one_by_one_must_not_cancel_a_running_sibling()
    {
        var slow = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("fast", Fetches.After<int, string>(Ms(10), "fast"))
            .Fetch("slow", Fetches.After<int, string>(Ms(400), "slow", slow))
            .Fetch("fails", Fetches.FailAfter<int, string>(Ms(10), new InvalidOperationException("boom")))
            .Fetch("last", Fetches.After<int, string>(Ms(10), "last"))
            .WithMaxConcurrency(2)
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        // "fast", "fails" and "last" each finish and are stopped while "slow" runs: its token must not fire.
        var reply = await ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal(new[] { PartStatus.Succeeded, PartStatus.Succeeded, PartStatus.Failed, PartStatus.Succeeded },
            reply.Parts.Select(p => p.Status));
        Assert.Equal("fast | slow | last", reply.Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Under_FailFast_a_failure_must_cancel_the_running_siblings_with_a_limit_too()
    {
        var sibling = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("sibling", Fetches.Hang<int, string>(sibling))
            .Fetch("fails", Fetches.FailAfter<int, string>(Ms(50), new InvalidOperationException("boom")))
            .Fetch("never", Fetches.Hang<int, string>())
            .WithMaxConcurrency(2)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("fails", Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Fetcher);
        await sibling.WhenCancelled();
        await AwaitQuietAsync(aggregator);
        Assert.Equal(0, (await StatsAsync(aggregator)).AbandonedFetches);
    }

    [Fact]
    public void A_limit_below_one_must_be_rejected_at_Build()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", Fetches.Hang<int, string>()).WithMaxConcurrency(0).Build());
        Assert.Contains("concurrency limit", error.Message);
    }
}
