using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Remote.Tests;

/// <summary>
/// A requester on node A, an aggregator on node B: every reply, failure, deadline and cancellation as on one node, the
/// error of a failed fetch readable on A as data, and the requester's death on A cancelling its requests on B.
/// </summary>
public sealed class RemoteRequestSpecs(ITestOutputHelper output) : TwoNodeSpec(output)
{
    private static AggregationDefinition<int, string> Kata(TimeSpan? profileDelay = null, Exception? ordersFailure = null,
        TokenProbe? profile = null, TokenProbe? orders = null) =>
        Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(profileDelay ?? Ms(50), "Name: Alice", profile))
            .Fetch("orders", ordersFailure is null
                ? Fetches.After<int, string>(Ms(20), "Order: 5", orders)
                : Fetches.FailAfter<int, string>(Ms(20), ordersFailure, orders))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

    [Fact]
    public async Task A_requester_on_another_node_must_get_the_same_reply_as_a_local_one()
    {
        var aggregator = await AggregatorOnNodeB(Kata(), "kata");

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "remote-1" });

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal(("remote-1", "Name: Alice | Order: 5"), (reply.RequestId, reply.Result));
        Assert.Equal("Name: Alice | Order: 5", await aggregator.AggregateAsync<int, string>(2));
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("kata"));
    }

    [Fact]
    public async Task A_failure_must_reach_the_other_node_with_the_type_name_and_message_of_what_the_fetch_threw()
    {
        var aggregator = await AggregatorOnNodeB(Kata(ordersFailure: new InvalidOperationException("orders service answered 500")), "failing");

        aggregator.Tell(new Aggregate<int>(1));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal("orders", failed.Fetcher);
        var error = Assert.IsType<RemoteException>(failed.Exception);
        Assert.Equal(("System.InvalidOperationException", "orders service answered 500"), (error.TypeName, error.Message));
        var thrown = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(2));
        Assert.Equal("System.InvalidOperationException", ((RemoteException)thrown.InnerException!).TypeName);
    }

    [Fact]
    public async Task The_deadline_must_cross_as_a_budget_and_the_reply_name_the_pending_fetchers()
    {
        var profile = new TokenProbe();
        var aggregator = await AggregatorOnNodeB(Kata(profileDelay: TimeSpan.FromSeconds(30), profile: profile), "slow");

        aggregator.Tell(new Aggregate<int>(1) { Timeout = Ms(600) });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var deadline = Assert.IsType<DeadlineExceeded>(reply.Reason);
        Assert.Equal(Ms(600), deadline.Timeout);
        Assert.Equal(["profile"], deadline.Pending);
        await profile.WhenCancelled();
    }

    [Fact]
    public async Task A_cancel_from_the_requester_on_another_node_must_fire_the_tokens_at_once()
    {
        var profile = new TokenProbe();
        var orders = new TokenProbe();
        var aggregator = await AggregatorOnNodeB(Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>(profile))
            .Fetch("orders", Fetches.Hang<int, string>(orders))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), "cancelled");
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "to-cancel" });
        await Task.WhenAll(profile.WhenStarted(), orders.WhenStarted());

        aggregator.Tell(new CancelAggregate("to-cancel"));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(AggregationCancelled.ByRequester, Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await Task.WhenAll(profile.WhenCancelled(), orders.WhenCancelled());
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("cancelled"));
    }

    [Fact]
    public async Task Cancelling_AggregateAsync_against_a_remote_aggregator_must_cancel_the_request_there()
    {
        var profile = new TokenProbe();
        var aggregator = await AggregatorOnNodeB(Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>(profile))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), "async-cancelled");
        using var cts = new CancellationTokenSource();

        var call = aggregator.AggregateAsync<int, string>(1, cancellationToken: cts.Token);
        await profile.WhenStarted();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await profile.WhenCancelled();
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("async-cancelled"));
    }

    [Fact]
    public async Task The_death_of_a_requester_on_another_node_must_cancel_its_request()
    {
        var profile = new TokenProbe();
        var aggregator = await AggregatorOnNodeB(Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>(profile))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), "orphaned");
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1));
        await profile.WhenStarted();

        Watch(requester.Ref);
        Sys.Stop(requester.Ref);
        await ExpectTerminatedAsync(requester.Ref, Generous);

        await profile.WhenCancelled();
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("orphaned"));
    }

    [Fact]
    public async Task A_cancel_from_anyone_on_another_node_but_the_requester_must_be_ignored()
    {
        var aggregator = await AggregatorOnNodeB(Kata(profileDelay: Ms(600)), "owned");
        var requester = CreateTestProbe();
        requester.Send(aggregator, new Aggregate<int>(1) { RequestId = "mine" });

        aggregator.Tell(new CancelAggregate("mine")); // from TestActor, not the requester

        Assert.Equal("Name: Alice | Order: 5", (await requester.ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }

    [Fact]
    public async Task A_nested_aggregation_on_another_node_must_get_what_is_left_of_the_outer_deadline_and_be_cancelled_with_it()
    {
        var innerTokens = new TokenProbe();
        var innerDeadline = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = await AggregatorOnNodeB(Aggregation.For<int>()
            .Fetch("address", async context =>
            {
                innerDeadline.TrySetResult(context.Remaining);
                innerTokens.Attach(context.CancellationToken);
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return "never";
            })
            .Build(), "inner");
        var outer = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Name: Alice"))
            .Nested<int, string>("address", inner, id => id)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()), "outer");

        outer.Tell(new Aggregate<int>(1) { RequestId = "outer-1", Timeout = TimeSpan.FromSeconds(20) });
        var remaining = await innerDeadline.Task.WaitAsync(Generous);
        outer.Tell(new CancelAggregate("outer-1"));

        Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.InRange(remaining, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)); // what was left of 20 s, not B's 5 s default
        await innerTokens.WhenCancelled();
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("inner"));
        await AggregationAssert.NoLeaksAsync(outer);
    }

    [Fact]
    public async Task A_node_configured_as_the_library_page_shows_must_send_requests_to_another_node_and_read_the_replies()
    {
        // snippet:begin remote-node-config
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            """).WithFallback(AggregationSettings.DefaultConfig()); // actors.aggregation and the serializer's bindings
        var node = ActorSystem.Create("shop", config);
        // snippet:end
        // The spec's own two nodes run the throttler transport; this one and its peer, configured the same way, do not.
        var server = ActorSystem.Create("shop", config);
        try
        {
            Assert.IsType<Serialization.AggregationSerializer>(node.Serialization.FindSerializerForType(typeof(Aggregate<int>)));
            server.ActorOf(AggregatorActor.Props(Kata()), "configured");
            var address = ((ExtendedActorSystem)server).Provider.DefaultAddress;
            var fromShop = await node.ActorSelection(new RootActorPath(address) / "user" / "configured").ResolveOne(Generous);
            Assert.Equal("Name: Alice | Order: 5", await fromShop.AggregateAsync<int, string>(7));
        }
        finally
        {
            await Task.WhenAll(node.Terminate(), server.Terminate()).WaitAsync(Generous);
        }
    }

    [Fact]
    public async Task A_front_over_an_aggregator_on_a_node_that_goes_silent_must_answer_NodeFailed_once()
    {
        var profile = new TokenProbe();
        var aggregator = await AggregatorOnNodeB(Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>(profile))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), "silent");
        var front = Sys.ActorOf(AggregatorFront.Over([aggregator]), "front-over-b");
        front.Tell(new Aggregate<int>(1) { RequestId = "on-b" });
        await profile.WhenStarted();

        await CutAsync();

        var failed = await ExpectMsgAsync<AggregateFailed>(TimeSpan.FromSeconds(20));
        Assert.Equal("on-b", failed.RequestId);
        Assert.Equal(((ExtendedActorSystem)NodeB).Provider.DefaultAddress.ToString(), Assert.IsType<NodeFailed>(failed.Reason).Node);
        Assert.True(failed.Elapsed < TimeSpan.FromSeconds(15), $"answered after {failed.Elapsed}, not at the 30 s deadline");
        await ExpectNoMsgAsync(Ms(500));
        var stats = await front.Ask<FrontStats>(GetFrontStats.Instance, Generous);
        Assert.Equal((1L, 0, 0), (stats.NodeFailures, stats.InFlight, stats.Aggregators));
        front.Tell(new Aggregate<int>(2));
        Assert.Equal("no aggregator is available", Assert.IsType<RequestRejected>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason).Reason);
    }

    /// <summary>Answers a question on node A, or dies on it without answering.</summary>
    private sealed class ProfileService : ReceiveActor
    {
        public ProfileService()
        {
            Receive<string>(question => question == "die", _ => Context.Stop(Self));
            Receive<string>(question => Sender.Tell($"Name of {question}"));
        }
    }

    [Fact]
    public async Task An_ask_fetcher_on_one_node_must_converse_with_a_target_on_the_other_and_fail_when_it_dies()
    {
        var service = Sys.ActorOf(Props.Create(() => new ProfileService()), "profile-service");
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var serviceFromB = await NodeB.ActorSelection(new RootActorPath(address) / "user" / "profile-service").ResolveOne(Generous);
        var aggregator = await AggregatorOnNodeB(Aggregation.For<string>()
            .Ask<string, string>("profile", serviceFromB, key => key, reply => reply)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build(), "asking");

        aggregator.Tell(new Aggregate<string>("alice"));
        Assert.Equal("Name of alice", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);

        aggregator.Tell(new Aggregate<string>("die"));
        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(typeof(AskTargetTerminatedException).FullName, ((RemoteException)failed.Exception).TypeName);
        Watch(service);
        await ExpectTerminatedAsync(service, Generous);
        await AggregationAssert.NoLeaksAsync(await LocalOnNodeB("asking"));
    }
}
