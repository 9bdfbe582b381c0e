using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>g. Exactly one reply per request, to the original sender, by Tell or by Ask.</summary>
public sealed class ReplySpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static AggregationDefinition<int, string> Echo(TimeSpan delay) =>
        Aggregation.For<int>()
            .Fetch("echo", async (int id, CancellationToken ct) => { await Task.Delay(delay, ct); return $"#{id}"; })
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

    [Fact]
    public async Task Each_of_many_concurrent_requesters_must_get_exactly_its_own_reply()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Echo(Ms(20))));
        var requesters = Enumerable.Range(0, 50).Select(_ => CreateTestProbe()).ToArray();

        for (var i = 0; i < requesters.Length; i++)
            requesters[i].Send(aggregator, new Aggregate<int>(i) { RequestId = $"req-{i}" });

        for (var i = 0; i < requesters.Length; i++)
        {
            var reply = await requesters[i].ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
            Assert.Equal($"req-{i}", reply.RequestId);
            Assert.Equal($"#{i}", reply.Result);
            Assert.Equal(aggregator, requesters[i].LastSender);
        }
        foreach (var requester in requesters) await requester.ExpectNoMsgAsync(Ms(50));
    }

    [Fact]
    public async Task A_generated_request_id_must_come_back_in_the_reply()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Echo(Ms(1))));

        aggregator.Tell(new Aggregate<int>(1));
        aggregator.Tell(new Aggregate<int>(2));

        var first = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        var second = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.False(string.IsNullOrWhiteSpace(first.RequestId));
        Assert.NotEqual(first.RequestId, second.RequestId);
    }

    [Fact]
    public async Task An_Ask_must_get_exactly_one_reply()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Echo(Ms(10))));

        var reply = await aggregator.Ask<IAggregateReply>(new Aggregate<int>(3) { RequestId = "asked" }, Generous);

        var succeeded = Assert.IsType<AggregateSucceeded<string>>(reply);
        Assert.Equal("asked", succeeded.RequestId);
        Assert.Equal("#3", succeeded.Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_late_CancelAggregate_must_not_cause_a_second_reply()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Echo(Ms(1))));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "done" });
        await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        aggregator.Tell(new CancelAggregate("done"));
        aggregator.Tell(new CancelAggregate("never-existed"));

        await ExpectNoMsgAsync(Ms(500));
    }

    [Fact]
    public async Task AggregateAsync_must_reject_a_wrong_result_type_clearly()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Echo(Ms(1))));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => aggregator.AggregateAsync<int, int>(1));

        Assert.Contains("AggregateSucceeded<Int32>", error.Message);
    }

    [Fact]
    public async Task AggregateReplyAsync_must_return_the_reply_as_it_came_a_failure_included()
    {
        var definition = Aggregation.For<int>()
            .Fetch("echo", async (int id, CancellationToken ct) =>
            {
                await Task.Delay(Ms(5), ct);
                return id > 0 ? $"#{id}" : throw new InvalidOperationException("no such id");
            })
            .Fetch("extra", (int _, CancellationToken _) => Task.FromException<string>(new TimeoutException("extra is down")),
                new FetchOptions { Fallback = Fallback.To("none") })
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        var succeeded = Assert.IsType<AggregateSucceeded<string>>(await aggregator.AggregateReplyAsync(1));
        Assert.Equal("#1 | none", succeeded.Result);
        Assert.Equal("extra", Assert.Single(succeeded.FellBack).Fetcher);

        var failed = Assert.IsType<AggregateFailed>(await aggregator.AggregateReplyAsync(0));
        Assert.Equal("echo", Assert.IsType<FetcherFailed>(failed.Reason).Fetcher);

        await aggregator.GracefulStop(Generous);
        var stopped = Assert.IsType<AggregateFailed>(await aggregator.AggregateReplyAsync(1));
        Assert.Contains("not running", Assert.IsType<AggregationCancelled>(stopped.Reason).Reason);
    }
}
