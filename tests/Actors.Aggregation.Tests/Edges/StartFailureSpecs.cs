using Actors.Aggregation.Testing;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>Whatever fails while a request starts, the request is answered exactly once, its slot is freed, and nothing runs on.</summary>
public sealed class StartFailureSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Fact]
    public async Task A_failure_while_starting_a_request_must_still_answer_it_once_and_free_its_slot()
    {
        var probe = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.After<int, string>(Ms(10), "Name: Alice", probe))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var faults = new FaultInjection { FailWhileStarting = id => id == "broken" };
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition, AggregationSettings.Create(Sys).WithMaxInFlight(1), faults));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "broken" });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("broken", reply.RequestId);
        Assert.Contains("could not be started", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        await ExpectNoMsgAsync(Ms(300));
        Assert.Equal(0, probe.Starts);
        // The one slot at max-in-flight 1 is free again, and the same id is free too.
        aggregator.Tell(new Aggregate<int>(2) { RequestId = "fine" });
        Assert.Equal("Name: Alice", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AggregationAssert.NoLeaksAsync(aggregator);
    }
}
