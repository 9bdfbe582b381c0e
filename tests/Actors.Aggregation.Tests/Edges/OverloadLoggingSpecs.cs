using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Event;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>Overload is counted and answered, each request at once, but it does not write one Warning per rejected request.</summary>
public sealed class OverloadLoggingSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private const int Flood = 1000;

    [Fact]
    public async Task A_flood_of_busy_rejections_must_be_answered_and_counted_but_not_logged_one_by_one()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("held", (int _, CancellationToken _) => release.Task)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build(), AggregationSettings.Create(Sys).WithMaxInFlight(1)));
        aggregator.Tell(new Aggregate<int>(0) { RequestId = "held" });
        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatsAsync(aggregator)).InFlight), Generous);
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));

        for (var i = 1; i <= Flood; i++) aggregator.Tell(new Aggregate<int>(i) { RequestId = $"flood-{i}" });

        var busy = 0;
        for (var i = 0; i < Flood; i++)
            if ((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason is RequestRejected { Reason: RequestRejected.Busy }) busy++;
        Assert.Equal(Flood, busy);
        Assert.Equal(Flood, (await StatsAsync(aggregator)).Rejected);
        var logged = 0;
        while (await warnings.ReceiveOneAsync(Ms(300)) is Warning warning)
        {
            var text = warning.Message?.ToString() ?? "";
            if (text.Contains("busy", StringComparison.OrdinalIgnoreCase) || text.Contains("rejected", StringComparison.OrdinalIgnoreCase)) logged++;
        }
        Assert.True(logged <= 3, $"{logged} Warnings about rejections for a flood of {Flood} busy requests");

        release.SetResult("done");
        Assert.Equal("held", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).RequestId);
        await AwaitQuietAsync(aggregator);
    }
}
