using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// A deadline is armed on a .NET timer, which takes at most about 49.7 days. A longer timeout is refused up front, wherever
/// it is given (request, definition, settings, configuration), never accepted and then left without a reply.
/// </summary>
public sealed class LongTimeoutSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static AggregationBuilder<int, string> TwoInstant() => Aggregation.For<int>()
        .Fetch("a", (int id, CancellationToken _) => Task.FromResult($"a{id}"))
        .Fetch("b", (int id, CancellationToken _) => Task.FromResult($"b{id}"));

    private IActorRef NewAggregator() => Sys.ActorOf(AggregatorActor.Props(TwoInstant().Build()));

    [Theory]
    [InlineData(long.MaxValue)] // TimeSpan.MaxValue
    [InlineData(50 * TimeSpan.TicksPerDay)]
    public async Task A_request_timeout_beyond_the_timer_limit_must_be_rejected_and_the_aggregator_keep_serving(long ticks)
    {
        var aggregator = NewAggregator();

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "too-long", Timeout = TimeSpan.FromTicks(ticks) });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal("too-long", reply.RequestId);
        var reason = Assert.IsType<RequestRejected>(reply.Reason).Reason;
        Assert.Contains("timeout", reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("at most", reason, StringComparison.OrdinalIgnoreCase);
        var stats = await StatsAsync(aggregator);
        Assert.Equal(0, stats.InFlight);
        Assert.Equal(1, stats.Rejected);

        aggregator.Tell(new Aggregate<int>(2));
        Assert.Equal("a2 | b2", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_request_timeout_of_49_days_must_be_accepted()
    {
        var aggregator = NewAggregator();

        aggregator.Tell(new Aggregate<int>(1) { Timeout = TimeSpan.FromDays(49) });

        Assert.Equal("a1 | b1", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public void A_definition_timeout_beyond_the_timer_limit_must_be_rejected_at_Build()
    {
        var definition = TwoInstant().WithTimeout(TimeSpan.FromDays(49)).Build(); // within the limit

        var atBuild = Assert.Throws<ArgumentException>(() => TwoInstant().WithTimeout(TimeSpan.MaxValue).Build());
        Assert.Contains("timeout", atBuild.Message, StringComparison.OrdinalIgnoreCase);
        var onCopy = Assert.Throws<ArgumentException>(() => definition.WithTimeout(TimeSpan.MaxValue));
        Assert.Contains("timeout", onCopy.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_default_timeout_beyond_the_timer_limit_must_be_rejected_by_the_settings()
    {
        var settings = AggregationSettings.Create(Sys);
        Assert.Equal(TimeSpan.FromDays(49), settings.WithDefaultTimeout(TimeSpan.FromDays(49)).DefaultTimeout); // within the limit

        var error = Assert.Throws<ArgumentException>(() => settings.WithDefaultTimeout(TimeSpan.MaxValue));
        Assert.Contains("default-timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_default_timeout_beyond_the_timer_limit_must_be_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => AggregationSettings.Create(ConfigurationFactory.ParseString("default-timeout = 100d")));
        Assert.Contains("default-timeout", error.Message, StringComparison.Ordinal);
    }
}
