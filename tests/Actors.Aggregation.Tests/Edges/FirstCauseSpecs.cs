using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>The first cause is reported with the very exception the fetch threw: not a substitute, not "(unknown)".</summary>
public sealed class FirstCauseSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>An exception whose Message getter throws: formatting it must not lose who failed or with what.</summary>
    private sealed class UnprintableException : Exception
    {
        public override string Message => throw new FormatException("this exception cannot describe itself");
    }

    /// <summary>A fetch that throws <paramref name="error"/>: before its first await, or after it.</summary>
    private static Func<int, CancellationToken, Task<string>> Throwing(Exception error, bool atOnce) =>
        atOnce
            ? (_, _) => throw error
            : async (_, _) =>
            {
                await Task.Yield();
                throw error;
            };

    /// <summary>Not cancelled through its token: the fetch's own time-out, surfaced as an OperationCanceledException (as HttpClient does).</summary>
    private static OperationCanceledException OwnCancellation() => new("http timeout", new TimeoutException("inner"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_fetchs_own_OperationCanceledException_must_be_the_FetcherFailed_exception_itself(bool atOnce)
    {
        var thrown = OwnCancellation();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("http", Throwing(thrown, atOnce))
            .Fetch("sibling", Fetches.Hang<int, string>())
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));

        aggregator.Tell(new Aggregate<int>(1));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal("http", failed.Fetcher);
        AssertSameError(thrown, failed.Exception);
        Assert.Equal("http timeout", failed.Exception.Message);
        AssertErrorType<TimeoutException>(failed.Exception.InnerException);
        Assert.Equal("inner", failed.Exception.InnerException!.Message);
        await AwaitQuietAsync(aggregator);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_fetchs_own_OperationCanceledException_must_be_its_PartOutcome_error_under_CollectAll(bool atOnce)
    {
        var thrown = OwnCancellation();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("http", Throwing(thrown, atOnce))
            .Fetch("ok", Fetches.After<int, string>(Ms(20), "fine"))
            .WithPolicy(CompletionPolicy.CollectAll)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateCompleted<string>>(Generous);
        Assert.Equal("fine", reply.Result);
        var part = Assert.Single(reply.Parts, p => p.Fetcher == "http");
        Assert.Equal(PartStatus.Failed, part.Status);
        AssertSameError(thrown, part.Error!);
        Assert.Equal("http timeout", part.Error!.Message);
        AssertErrorType<TimeoutException>(part.Error!.InnerException);
        await AwaitQuietAsync(aggregator);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_exception_whose_Message_throws_must_still_be_reported_with_the_fetchers_name(bool atOnce)
    {
        var thrown = new UnprintableException();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("nasty", Throwing(thrown, atOnce))
            .Fetch("sibling", Fetches.Hang<int, string>())
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));

        aggregator.Tell(new Aggregate<int>(1));

        // Received untyped: the TestKit's typed expectation formats the message it got, and so the exception's Message.
        var reply = Assert.IsType<AggregateFailed>(await ReceiveOneAsync(Generous));
        var failed = Assert.IsType<FetcherFailed>(reply.Reason);
        Assert.Equal("nasty", failed.Fetcher);
        // Not Assert.Same: its failure message would format the exception, whose Message throws. Through the wire format
        // it crosses as data, its type name kept and its message saying the getter threw.
        if (SerializeMessages && failed.Exception is RemoteException remote)
            Assert.Equal(typeof(UnprintableException).FullName, remote.TypeName);
        else
            Assert.True(ReferenceEquals(thrown, failed.Exception),
                $"FetcherFailed.Exception must be the thrown instance, but is a {failed.Exception.GetType().FullName}");
        // Reporting it (the library logs every failure) must not throw either.
        Assert.Contains("nasty", failed.Describe(), StringComparison.Ordinal);
        await AwaitQuietAsync(aggregator);
    }
}
