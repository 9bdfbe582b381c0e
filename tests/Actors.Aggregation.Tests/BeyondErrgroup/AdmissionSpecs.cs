using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>errgroup's TryGo, per aggregator: max-in-flight, answered at once with RequestRejected("busy"), never queued.</summary>
public sealed class AdmissionSpecs(ITestOutputHelper output)
    : AggregationSpec(output, ConfigurationFactory.ParseString("actors.aggregation.max-in-flight = 3"))
{
    [Fact]
    public async Task Admission_must_be_rejected_at_exactly_the_limit_and_reopen_when_a_request_ends()
    {
        var definition = Aggregation.For<int>().Fetch("hang", Fetches.Hang<int, string>()).WithTimeout(TimeSpan.FromSeconds(30)).Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition)); // max-in-flight from HOCON

        for (var i = 1; i <= 3; i++) aggregator.Tell(new Aggregate<int>(i) { RequestId = $"r{i}" });
        Assert.Equal(3, (await StatsAsync(aggregator)).InFlight);

        aggregator.Tell(new Aggregate<int>(4) { RequestId = "r4" });
        var rejected = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("r4", rejected.RequestId);
        Assert.Equal(RequestRejected.Busy, Assert.IsType<RequestRejected>(rejected.Reason).Reason);

        aggregator.Tell(new CancelAggregate("r1"));
        Assert.IsType<AggregationCancelled>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await StatsAsync(aggregator)).InFlight), Generous);

        aggregator.Tell(new Aggregate<int>(5) { RequestId = "r5" });
        await ExpectNoMsgAsync(Ms(300)); // accepted: it hangs instead of being rejected
        var stats = await StatsAsync(aggregator);
        Assert.Equal(3, stats.InFlight);
        Assert.Equal(4, stats.Accepted);
        Assert.Equal(1, stats.Rejected);

        foreach (var id in new[] { "r2", "r3", "r5" }) aggregator.Tell(new CancelAggregate(id));
        for (var i = 0; i < 3; i++) await ExpectMsgAsync<AggregateFailed>(Generous);
        await AwaitQuietAsync(aggregator);
    }
}
