using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>b. Every way a fetcher's actor can stop cancels its token, and cooperative I/O ends promptly.</summary>
public sealed class CancellationSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static AggregationDefinition<int, string> TwoHanging(TokenProbe first, TokenProbe second) =>
        Aggregation.For<int>()
            .Fetch("first", Fetches.Hang<int, string>(first))
            .Fetch("second", Fetches.Hang<int, string>(second))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

    [Fact]
    public async Task CancelAggregate_must_cancel_every_fetch_and_reply_AggregationCancelled()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(TwoHanging(first, second)));
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "to-cancel" });
        await Task.WhenAll(first.WhenStarted(), second.WhenStarted());

        aggregator.Tell(new CancelAggregate("to-cancel"));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("to-cancel", reply.RequestId);
        Assert.Equal(AggregationCancelled.ByRequester, Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await first.WhenCancelled();
        await second.WhenCancelled();
        await AwaitQuietAsync(aggregator);
        await ExpectNoMsgAsync(Ms(300));
    }

    [Fact]
    public async Task A_terminated_requester_must_cancel_its_request_like_a_disconnected_client()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(TwoHanging(first, second)));
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1));
        await Task.WhenAll(first.WhenStarted(), second.WhenStarted());

        Watch(requester.Ref);
        Sys.Stop(requester.Ref);
        await ExpectTerminatedAsync(requester.Ref, Generous);

        await first.WhenCancelled();
        await second.WhenCancelled();
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_terminated_requester_must_cancel_every_request_it_still_has_in_flight_and_no_other()
    {
        var definition = Aggregation.For<int>()
            .Fetch("hang", Fetches.Hang<int, string>())
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        var requester = CreateTestProbe();
        var other = CreateTestProbe();
        for (var i = 1; i <= 3; i++) requester.Send(aggregator, new Aggregate<int>(i) { RequestId = $"mine-{i}" });
        other.Send(aggregator, new Aggregate<int>(0) { RequestId = "other" });
        await AwaitAssertAsync(async () => Assert.Equal(4, (await StatsAsync(aggregator)).InFlight), Generous);

        // One of its requests ends first: the requester is still watched for the other two.
        requester.Send(aggregator, new CancelAggregate("mine-1"));
        Assert.Equal("mine-1", (await requester.ExpectMsgAsync<AggregateFailed>(Generous)).RequestId);
        await AwaitAssertAsync(async () => Assert.Equal(3, (await StatsAsync(aggregator)).InFlight), Generous);

        Sys.Stop(requester.Ref);

        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatsAsync(aggregator)).InFlight), Generous);
        other.Send(aggregator, new CancelAggregate("other"));
        Assert.Equal("other", (await other.ExpectMsgAsync<AggregateFailed>(Generous)).RequestId);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Stopping_the_aggregator_must_cancel_every_fetch_and_answer_every_requester()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(TwoHanging(first, second)));
        aggregator.Tell(new Aggregate<int>(1));
        await Task.WhenAll(first.WhenStarted(), second.WhenStarted());

        Sys.Stop(aggregator);

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Contains("aggregator stopped", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await first.WhenCancelled();
        await second.WhenCancelled();
    }

    [Fact]
    public async Task Stopping_the_aggregator_under_a_concurrency_limit_must_not_start_the_next_fetcher_or_blame_it()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("first", Fetches.Hang<int, string>(first))
            .Fetch("second", Fetches.Hang<int, string>(second))
            .WithMaxConcurrency(1)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));
        aggregator.Tell(new Aggregate<int>(1));
        await first.WhenStarted();

        // Stopping the request stops "first", which frees the one slot while the coordinator itself is stopping.
        Sys.Stop(aggregator);

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Contains("aggregator stopped", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await first.WhenCancelled();
        await ExpectNoMsgAsync(Ms(300));
        Assert.Equal(0, second.Starts);
    }

    [Fact]
    public async Task System_shutdown_must_cancel_every_fetch_and_answer_every_live_requester()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var other = ActorSystem.Create("shutting-down", SpecConfig);
        var aggregator = other.ActorOf(AggregatorActor.Props(TwoHanging(first, second)));
        aggregator.Tell(new Aggregate<int>(1), TestActor); // the requester lives in another system, which stays up
        await Task.WhenAll(first.WhenStarted(), second.WhenStarted());

        await other.Terminate().WaitAsync(Generous);

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Contains("shutting down", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await first.WhenCancelled();
        await second.WhenCancelled();
    }

    [Fact]
    public async Task Cancelling_AggregateAsync_must_cancel_the_request_and_throw_OperationCanceledException_at_once()
    {
        var first = new TokenProbe();
        var second = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(TwoHanging(first, second)));
        using var cts = new CancellationTokenSource();

        var call = aggregator.AggregateAsync<int, string>(1, cancellationToken: cts.Token);
        await Task.WhenAll(first.WhenStarted(), second.WhenStarted());
        await cts.CancelAsync();

        // The call does not wait for the aggregator to confirm: the request is cancelled, and the caller is free at once.
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cts.Token, cancelled.CancellationToken);
        await first.WhenCancelled();
        await second.WhenCancelled();
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task Cancellation_must_reach_a_real_socket_through_HttpClient()
    {
        // A loopback server that accepts the request and never answers; it reports when the client aborts the connection.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var clientAborted = AbortedConnectionAsync(listener);
        using var http = new HttpClient();
        var httpFetchEnded = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("slow-service", async (int id, CancellationToken ct) =>
            {
                try
                {
                    return await http.GetStringAsync($"http://127.0.0.1:{port}/profile/{id}", ct);
                }
                finally
                {
                    httpFetchEnded.TrySetResult(Stopwatch.GetTimestamp());
                }
            })
            .Fetch("failing", Fetches.FailAfter<int, string>(Ms(300), new InvalidOperationException("orders down")))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("failing", Assert.IsType<FetcherFailed>(reply.Reason).Fetcher);
        var abortedAt = await clientAborted.WaitAsync(Generous);
        var endedAt = await httpFetchEnded.Task.WaitAsync(Generous);
        Output.WriteLine($"server saw the abort {MsBetween(endedAt, abortedAt):0.0} ms after the fetch ended");
        var stats = await StatsAsync(aggregator);
        Assert.Equal(0, stats.AbandonedFetches);
    }

    private static async Task<long> AbortedConnectionAsync(TcpListener listener)
    {
        using var connection = await listener.AcceptTcpClientAsync();
        var stream = connection.GetStream();
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer) > 0) { }
        }
        catch (IOException)
        {
            // A reset is an abort too.
        }
        return Stopwatch.GetTimestamp();
    }
}
