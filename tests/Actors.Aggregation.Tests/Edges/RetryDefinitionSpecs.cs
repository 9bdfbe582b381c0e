using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>A retry policy that cannot compute a backoff is refused at Build; an enormous backoff is just "no retry before the deadline".</summary>
public sealed class RetryDefinitionSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    [Theory]
    [InlineData("Jitter", double.NaN)]
    [InlineData("Jitter", double.PositiveInfinity)]
    [InlineData("Multiplier", double.NaN)]
    [InlineData("Multiplier", double.PositiveInfinity)]
    public void A_non_finite_retry_parameter_must_be_rejected_at_Build_naming_it(string property, double value)
    {
        var retry = property == "Jitter" ? new RetryPolicy(3) { Jitter = value } : new RetryPolicy(3) { Multiplier = value };

        var error = Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("flaky", Fetches.Hang<int, string>(), retry).Build());

        Assert.Contains(property, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backoff_of_TimeSpan_MaxValue_must_end_in_the_fetchs_own_failure()
    {
        var down = new TimeoutException("service down");
        var retry = new RetryPolicy(3) { InitialBackoff = TimeSpan.MaxValue, MaxBackoff = TimeSpan.MaxValue };
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("down", (int _, CancellationToken _) => Task.FromException<string>(down), retry)
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build()));

        // The jitter is random, and only some draws break the TimeSpan arithmetic: many requests make that certain to be hit.
        for (var i = 0; i < 20; i++)
        {
            aggregator.Tell(new Aggregate<int>(i));
            var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
            Assert.Equal("down", failed.Fetcher);
            AssertSameError(down, failed.Exception);
            Assert.Equal(1, failed.Attempts); // the backoff ends long after the deadline: no second attempt
        }
        await AwaitQuietAsync(aggregator);
    }
}
