using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// AggregateAsync only ever throws AggregationFailedException (the request failed) or OperationCanceledException (the caller
/// cancelled): not an OverflowException for a huge timeout, and not the actor system's ask-timeout when no timeout is given.
/// </summary>
public sealed class AggregateAsyncEdgeSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static readonly Config ShortAskTimeout = ConfigurationFactory.ParseString("akka.actor.ask-timeout = 300ms");

    /// <summary>Runs <paramref name="body"/> in a second actor system whose ask-timeout is 300 ms, and shuts it down.</summary>
    private async Task WithShortAskTimeoutAsync(Func<ActorSystem, Task> body)
    {
        var system = ActorSystem.Create("short-ask-timeout", ShortAskTimeout.WithFallback(SpecConfig));
        try
        {
            await body(system);
        }
        finally
        {
            await system.Terminate().WaitAsync(Generous);
        }
    }

    [Fact]
    public async Task AggregateAsync_with_a_timeout_of_TimeSpan_MaxValue_must_throw_AggregationFailedException_RequestRejected()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("a", Fetches.After<int, string>(Ms(10), "a"))
            .Build()));

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(1, TimeSpan.MaxValue));

        Assert.IsType<RequestRejected>(error.Reason);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task AggregateAsync_without_a_timeout_must_wait_for_the_definitions_deadline_not_the_systems_ask_timeout()
    {
        await WithShortAskTimeoutAsync(async system =>
        {
            var aggregator = system.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
                .Fetch("slow", Fetches.After<int, string>(TimeSpan.FromSeconds(1), "slow but in time"))
                .WithTimeout(TimeSpan.FromSeconds(5))
                .Build()));

            Assert.Equal("slow but in time", await aggregator.AggregateAsync<int, string>(1));
        });
    }

    [Fact]
    public async Task AggregateAsync_without_a_timeout_must_report_the_definitions_deadline_as_DeadlineExceeded()
    {
        await WithShortAskTimeoutAsync(async system =>
        {
            var aggregator = system.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
                .Fetch("hang", Fetches.Hang<int, string>())
                .WithTimeout(Ms(800))
                .Build()));

            var error = await Record.ExceptionAsync(() => aggregator.AggregateAsync<int, string>(1));

            Assert.True(error is AggregationFailedException or OperationCanceledException,
                $"AggregateAsync may only throw AggregationFailedException or OperationCanceledException, but threw {error}");
            var failed = Assert.IsType<AggregationFailedException>(error);
            Assert.IsType<DeadlineExceeded>(failed.Reason);
        });
    }
}
