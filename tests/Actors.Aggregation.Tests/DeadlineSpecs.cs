using System.Diagnostics;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>c. The deadline is absolute, measured from arrival; progress never extends it.</summary>
public sealed class DeadlineSpecs(ITestOutputHelper output)
    : AggregationSpec(output, ConfigurationFactory.ParseString("actors.aggregation.default-timeout = 700ms"))
{
    [Fact]
    public async Task Progress_must_never_extend_the_deadline()
    {
        // Parts keep arriving every 200 ms; an idle timer (ReceiveTimeout re-armed by each message) would fire near 2.0 s.
        var hanging = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("p200", Fetches.After<int, int>(Ms(200), 1))
            .Fetch("p400", Fetches.After<int, int>(Ms(400), 2))
            .Fetch("p600", Fetches.After<int, int>(Ms(600), 3))
            .Fetch("p800", Fetches.After<int, int>(Ms(800), 4))
            .Fetch("hanging", Fetches.Hang<int, int>(hanging))
            .WithTimeout(TimeSpan.FromSeconds(1))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));
        var sent = Stopwatch.GetTimestamp();

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        var deadline = Assert.IsType<DeadlineExceeded>(reply.Reason);
        Assert.Equal(new[] { "hanging" }, deadline.Pending);
        Assert.InRange(reply.Elapsed.TotalMilliseconds, 995, 1_700);
        Assert.InRange(MsSince(sent), 950, 1_750);
        await hanging.WhenCancelled();
    }

    [Fact]
    public async Task A_request_timeout_must_override_the_definitions()
    {
        var slow = new TokenProbe();
        var definition = Aggregation.For<int>()
            .Fetch("slow", Fetches.Hang<int, string>(slow))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1) { Timeout = Ms(300) });

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(Ms(300), Assert.IsType<DeadlineExceeded>(reply.Reason).Timeout);
        Assert.True(reply.Elapsed >= Ms(295), $"elapsed {reply.Elapsed}");
        await slow.WhenCancelled();
    }

    [Fact]
    public async Task Without_a_timeout_the_HOCON_default_timeout_must_apply()
    {
        var definition = Aggregation.For<int>().Fetch("slow", Fetches.Hang<int, string>()).Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(Ms(700), Assert.IsType<DeadlineExceeded>(reply.Reason).Timeout);
    }

    [Fact]
    public async Task Settings_given_in_code_must_win_over_HOCON()
    {
        var definition = Aggregation.For<int>().Fetch("slow", Fetches.Hang<int, string>()).Build();
        var settings = AggregationSettings.Create(Sys).WithDefaultTimeout(Ms(250));
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition, settings));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(Ms(250), Assert.IsType<DeadlineExceeded>(reply.Reason).Timeout);
    }

    [Fact]
    public async Task A_deadline_must_not_wait_for_a_fetch_that_ignores_its_token()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = Aggregation.For<int>()
            .Fetch("stubborn", Fetches.IgnoringToken<int, string>(release.Task, "late"))
            .WithTimeout(Ms(400))
            .Build();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1));

        var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
        Assert.Equal(new[] { "stubborn" }, Assert.IsType<DeadlineExceeded>(reply.Reason).Pending);
        Assert.InRange(reply.Elapsed.TotalMilliseconds, 395, 1_500);
        release.SetResult("late");
        await AwaitQuietAsync(aggregator);
    }
}
