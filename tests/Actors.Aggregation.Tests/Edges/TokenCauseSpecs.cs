using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>Every token that fires has a cause: also the tokens of fetches that succeeded, once their request completed.</summary>
public sealed class TokenCauseSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>A context-aware fetch that succeeds at once and hands back its context when its token fires.</summary>
    private sealed class ContextRecorder
    {
        private readonly TaskCompletionSource<FetchContext<int>> _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<FetchContext<int>, Task<string>> Fetch(string value) => context =>
        {
            context.CancellationToken.Register(() => _fired.TrySetResult(context));
            return Task.FromResult(value);
        };

        public Task<FetchContext<int>> Fired => _fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("FailFast")]
    [InlineData("FailFast-limited")]
    [InlineData("CollectAll")]
    public async Task The_token_of_a_fetch_that_succeeded_must_fire_with_a_cause_saying_it_had_finished(string shape)
    {
        var first = new ContextRecorder();
        var second = new ContextRecorder();
        var builder = Aggregation.For<int>()
            .Fetch("first", first.Fetch("one"))
            .Fetch("second", second.Fetch("two"))
            .WithTimeout(TimeSpan.FromSeconds(30));
        builder = shape switch
        {
            "FailFast-limited" => builder.WithMaxConcurrency(1),
            "CollectAll" => builder.WithPolicy(CompletionPolicy.CollectAll),
            _ => builder,
        };
        var aggregator = Sys.ActorOf(AggregatorActor.Props(builder.Build()));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<IAggregateReply>(Generous);
        if (shape == "CollectAll") Assert.True(Assert.IsType<AggregateCompleted<string>>(reply).AllSucceeded);
        else Assert.Equal("one | two", Assert.IsType<AggregateSucceeded<string>>(reply).Result);
        foreach (var (name, recorder) in new[] { ("first", first), ("second", second) })
        {
            var context = await recorder.Fired;
            var cause = context.Cause;
            Assert.True(cause is not null, $"the token of '{name}' fired without a cause");
            Assert.Equal(CancellationCauseKind.FetchFinished, cause!.Kind);
        }
        await AwaitQuietAsync(aggregator);
    }
}
