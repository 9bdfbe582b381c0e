using Actors.Aggregation.Serialization;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Serialization;

/// <summary>
/// Every public message through the real serializer, as Akka picks it from the library's reference configuration: what
/// goes in comes out, exceptions as data, user types by Akka's own serializers, and a payload that cannot be read is
/// logged and dropped rather than thrown at the transport.
/// </summary>
public sealed class WireFormatSpecs(ITestOutputHelper output)
    : AggregationSpec(output, ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(AggregationSettings.DefaultConfig()))
{
    private sealed record Profile(string Name, int Orders);

    private object RoundTrip(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<AggregationSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        return Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
    }

    private T RoundTrip<T>(T message) where T : notnull => Assert.IsType<T>(RoundTrip((object)message));

    [Fact]
    public void The_reference_configuration_must_bind_every_public_message_to_the_library_serializer()
    {
        object[] messages =
        [
            new Aggregate<int>(1), new CancelAggregate("r"), new AggregateSucceeded<string>("r", "x", TimeSpan.Zero),
            new AggregateFailed("r", new RequestRejected("busy")), new AggregateCompleted<int>("r", 1, [], TimeSpan.Zero),
            GetAggregatorStats.Instance, new AggregatorStats(0, 0, 0, 0, 0, 0), GetLeakReport.Instance, new LeakReport([], 0, []),
            GetFrontStats.Instance, new FrontStats(0, 0, 0, 0, 0, 0),
        ];
        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.True(serializer is AggregationSerializer, $"{message.GetType().Name} is serialized by {serializer.GetType().Name}");
            Assert.Equal(AggregationSerializer.DefaultIdentifier, serializer.Identifier);
        }
    }

    [Fact]
    public void A_request_must_cross_with_its_key_id_and_budget()
    {
        Assert.Equal(new Aggregate<int>(7) { RequestId = "r-1", Timeout = TimeSpan.FromMilliseconds(1500) },
            RoundTrip(new Aggregate<int>(7) { RequestId = "r-1", Timeout = TimeSpan.FromMilliseconds(1500) }));
        Assert.Equal(new Aggregate<string>("alice"), RoundTrip(new Aggregate<string>("alice")));
        Assert.Equal(new Aggregate<Profile>(new Profile("Alice", 5)) { RequestId = "p" },
            RoundTrip(new Aggregate<Profile>(new Profile("Alice", 5)) { RequestId = "p" }));
        // A null key crosses too, so that the aggregator can reject it with its reason.
        Assert.Null(RoundTrip(new Aggregate<string>(null!)).Key);
        Assert.Equal(new CancelAggregate("r-1"), RoundTrip(new CancelAggregate("r-1")));
    }

    [Fact]
    public void Successes_must_cross_with_their_result_of_the_users_type()
    {
        Assert.Equal(new AggregateSucceeded<string>("r", "Name: Alice | Order: 5", TimeSpan.FromMilliseconds(12.5)),
            RoundTrip(new AggregateSucceeded<string>("r", "Name: Alice | Order: 5", TimeSpan.FromMilliseconds(12.5))));
        Assert.Equal(new AggregateSucceeded<Profile>("r", new Profile("Alice", 5), TimeSpan.FromSeconds(1)),
            RoundTrip(new AggregateSucceeded<Profile>("r", new Profile("Alice", 5), TimeSpan.FromSeconds(1))));
        Assert.Null(RoundTrip(new AggregateSucceeded<string?>("r", null, TimeSpan.Zero)).Result);
    }

    [Fact]
    public void A_fetchers_exception_must_cross_as_data_with_its_type_message_stack_trace_and_inner_errors()
    {
        Exception thrown;
        try
        {
            throw new HttpRequestException("orders answered 500", new TimeoutException("inner timeout"));
        }
        catch (Exception e)
        {
            thrown = e;
        }
        var failed = RoundTrip(new AggregateFailed("r", new FetcherFailed("orders", thrown) { Attempts = 3 }) { Elapsed = TimeSpan.FromMilliseconds(40) });

        Assert.Equal(("r", TimeSpan.FromMilliseconds(40)), (failed.RequestId, failed.Elapsed));
        var reason = Assert.IsType<FetcherFailed>(failed.Reason);
        Assert.Equal(("orders", 3), (reason.Fetcher, reason.Attempts));
        var error = Assert.IsType<RemoteException>(reason.Exception);
        Assert.Equal(("System.Net.Http.HttpRequestException", "orders answered 500"), (error.TypeName, error.Message));
        Assert.Contains(nameof(A_fetchers_exception_must_cross_as_data_with_its_type_message_stack_trace_and_inner_errors), error.StackTrace);
        var inner = Assert.IsType<RemoteException>(error.InnerException);
        Assert.Equal(("System.TimeoutException", "inner timeout"), (inner.TypeName, inner.Message));
        Assert.Equal("fetcher 'orders' failed after 3 attempts: HttpRequestException: orders answered 500", reason.Describe());
        // Crossing again keeps the original type name, not the stand-in's.
        Assert.Equal("System.Net.Http.HttpRequestException",
            ((RemoteException)((FetcherFailed)RoundTrip(failed).Reason).Exception).TypeName);
    }

    [Fact]
    public void Every_kind_of_failure_must_cross()
    {
        var aggregate = new AggregateException(new InvalidOperationException("one"), new ArgumentException("two"));
        AggregationFailure[] failures =
        [
            new DeadlineExceeded(TimeSpan.FromSeconds(1), ["profile", "orders"]),
            new AggregationCancelled(AggregationCancelled.ByRequester),
            new RequestRejected(RequestRejected.Busy),
            new CombineFailed(new FormatException("bad part")),
            new QuorumNotReached(2, [new FetcherFailed("a", new InvalidOperationException("a down")), new FetcherFailed("b", aggregate)]),
            new NodeFailed("akka.tcp://shop@127.0.0.1:4053", "the node is gone"),
        ];
        foreach (var failure in failures)
        {
            var back = RoundTrip(new AggregateFailed("r", failure)).Reason;
            Assert.Equal(failure.GetType(), back.GetType());
            switch (back)
            {
                case DeadlineExceeded d:
                    Assert.Equal(TimeSpan.FromSeconds(1), d.Timeout);
                    Assert.Equal(["profile", "orders"], d.Pending);
                    break;
                case CombineFailed c:
                    Assert.Equal(("System.FormatException", "bad part"), (((RemoteException)c.Exception).TypeName, c.Exception.Message));
                    break;
                case QuorumNotReached q:
                    Assert.Equal(2, q.Required);
                    Assert.Equal(["a", "b"], q.Failures.Select(f => f.Fetcher));
                    var all = (RemoteException)q.Failures[1].Exception;
                    Assert.Equal(["one", "two"], all.InnerErrors.Select(e => e.Message));
                    break;
                default:
                    Assert.Equal(failure, back);
                    break;
            }
        }
    }

    [Fact]
    public void A_collected_reply_must_cross_with_every_part_outcome()
    {
        var completed = RoundTrip(new AggregateCompleted<string>("r", "Alice", [
            new PartOutcome("profile", PartStatus.Succeeded, new Profile("Alice", 5), null),
            new PartOutcome("orders", PartStatus.Failed, null, new InvalidOperationException("down")) { Attempts = 2 },
            new PartOutcome("recs", PartStatus.TimedOut, null, null),
            new PartOutcome("late", PartStatus.NotStarted, null, null) { Attempts = 0 },
        ], TimeSpan.FromMilliseconds(900)));

        Assert.Equal(("r", "Alice", TimeSpan.FromMilliseconds(900)), (completed.RequestId, completed.Result, completed.Elapsed));
        Assert.Equal([PartStatus.Succeeded, PartStatus.Failed, PartStatus.TimedOut, PartStatus.NotStarted], completed.Parts.Select(p => p.Status));
        Assert.Equal(new Profile("Alice", 5), completed.Parts[0].Value);
        Assert.Equal(("System.InvalidOperationException", "down", 2),
            (((RemoteException)completed.Parts[1].Error!).TypeName, completed.Parts[1].Error!.Message, completed.Parts[1].Attempts));
        Assert.Equal([1, 2, 1, 0], completed.Parts.Select(p => p.Attempts));
    }

    [Fact]
    public void A_success_with_fallen_back_parts_must_cross_with_each_fallback_and_why()
    {
        var succeeded = RoundTrip(new AggregateSucceeded<string>("r", "Alice | 0", TimeSpan.FromMilliseconds(300))
        {
            FellBack = [
                new PartOutcome("orders", PartStatus.FellBack, 0, new PartTimeoutException("orders", TimeSpan.FromMilliseconds(200), "out of budget")),
                new PartOutcome("recs", PartStatus.FellBack, null, new InvalidOperationException("down")) { Attempts = 2 },
            ],
        });

        Assert.Equal(("r", "Alice | 0", TimeSpan.FromMilliseconds(300)), (succeeded.RequestId, succeeded.Result, succeeded.Elapsed));
        Assert.Equal([("orders", PartStatus.FellBack, (object?)0, 1), ("recs", PartStatus.FellBack, null, 2)],
            succeeded.FellBack.Select(p => (p.Fetcher, p.Status, p.Value, p.Attempts)));
        Assert.Equal([("Actors.Aggregation.PartTimeoutException", "out of budget"), ("System.InvalidOperationException", "down")],
            succeeded.FellBack.Select(p => (((RemoteException)p.Error!).TypeName, p.Error!.Message)));
        // Without fallbacks the payload is the first layout, and reads back with none.
        Assert.Empty(RoundTrip(new AggregateSucceeded<string>("r", "Alice", TimeSpan.Zero)).FellBack);
    }

    [Fact]
    public void Stats_and_leak_reports_must_cross()
    {
        Assert.Same(GetAggregatorStats.Instance, RoundTrip(GetAggregatorStats.Instance));
        Assert.Same(GetLeakReport.Instance, RoundTrip(GetLeakReport.Instance));
        Assert.Equal(new AggregatorStats(1, 2, 3, 4, 5, 6) { Coalesced = 7 }, RoundTrip(new AggregatorStats(1, 2, 3, 4, 5, 6) { Coalesced = 7 }));
        Assert.Same(GetFrontStats.Instance, RoundTrip(GetFrontStats.Instance));
        Assert.Equal(new FrontStats(1, 2, 3, 4, 5, 6), RoundTrip(new FrontStats(1, 2, 3, 4, 5, 6)));
        var report = RoundTrip(new LeakReport([new InFlightRequest("r-1", ["profile", "orders"])], 2,
            [new LingeringFetch("r-0", "stubborn", TimeSpan.FromMilliseconds(800), Abandoned: true)]));
        Assert.Equal("request 'r-1' (live fetchers: profile, orders)", report.InFlight.Single().Describe());
        Assert.Equal(2, report.LiveFetchers);
        Assert.Equal(new LingeringFetch("r-0", "stubborn", TimeSpan.FromMilliseconds(800), true), report.LingeringFetches.Single());
    }

    [Theory]
    [InlineData("unknown manifest")]
    [InlineData("unknown version")]
    [InlineData("corrupt payload")]
    [InlineData("key type missing here")]
    public async Task A_payload_that_cannot_be_read_must_be_logged_and_dropped_not_thrown(string fault)
    {
        var serializer = (AggregationSerializer)Sys.Serialization.FindSerializerFor(new CancelAggregate("r"));
        var (bytes, manifest) = fault switch
        {
            "unknown manifest" => (serializer.ToBinary(new CancelAggregate("r")), "Z9"),
            "unknown version" => (Changed(serializer.ToBinary(new CancelAggregate("r")), 0, 99), "C"),
            "corrupt payload" => (serializer.ToBinary(new AggregateFailed("r", new RequestRejected("x")))[..6], "F"),
            _ => (KeyTypeRenamed(serializer), "A"),
        };

        object? read = null;
        await EventFilter.Warning(contains: $"could not read a message with manifest '{manifest}'").ExpectOneAsync(Generous,
            () =>
            {
                read = serializer.FromBinary(bytes, manifest);
                return Task.CompletedTask;
            });
        Assert.IsType<UnreadableMessage>(read);
    }

    [Fact]
    public async Task An_aggregator_must_ignore_an_unreadable_message_and_keep_serving()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>().Fetch("a", (id, _) => Task.FromResult($"a{id}")).Build()));

        aggregator.Tell(new UnreadableMessage("Z9", "test"));
        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("a1", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
    }

    private static byte[] Changed(byte[] bytes, int index, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] = value;
        return copy;
    }

    /// <summary>A request whose key type name no longer resolves: as if it came from a node with a type this one lacks.</summary>
    private static byte[] KeyTypeRenamed(AggregationSerializer serializer)
    {
        var bytes = serializer.ToBinary(new Aggregate<Profile>(new Profile("A", 1)));
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        var name = typeof(Profile).AssemblyQualifiedName!;
        var at = text.IndexOf(nameof(Profile), StringComparison.Ordinal);
        Assert.True(at > 0, $"the key type name {name} is in the payload");
        var copy = (byte[])bytes.Clone();
        copy[at] = (byte)'Q'; // "Qrofile": same length, no such type
        return copy;
    }
}
