using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.BeyondErrgroup;

/// <summary>Fetchers that are actor conversations: .Ask(name, target, key => message, reply => part).</summary>
public sealed class AskFetcherSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private sealed record GetProfile(int Id);

    private sealed record Profile(string Name);

    /// <summary>A profile service actor; what it answers depends on the id.</summary>
    private sealed class ProfileService : ReceiveActor
    {
        public ProfileService()
        {
            Receive<GetProfile>(get =>
            {
                switch (get.Id)
                {
                    case 1: Sender.Tell(new Profile("Alice")); break;
                    case 2: Sender.Tell(new Status.Failure(new InvalidOperationException("profile store down"))); break;
                    case 3: Sender.Tell("not a profile"); break;
                    case 4: Context.Stop(Self); break;
                    default: break; // never answers
                }
            });
        }
    }

    private IActorRef Service(string name) => Sys.ActorOf(Props.Create(() => new ProfileService()), name);

    private IActorRef Aggregator(IActorRef service, TimeSpan timeout) => Sys.ActorOf(AggregatorActor.Props(
        Aggregation.For<int>()
            .Ask<Profile, string>("profile", service, id => new GetProfile(id), profile => $"Name: {profile.Name}")
            .Fetch("orders", Fetches.After<int, string>(Ms(20), "Order: 5"))
            .WithTimeout(timeout)
            .Build()));

    [Fact]
    public async Task An_ask_fetcher_must_map_the_targets_reply_into_its_part()
    {
        var aggregator = Aggregator(Service("profiles-ok"), TimeSpan.FromSeconds(10));

        aggregator.Tell(new Aggregate<int>(1));

        Assert.Equal("Name: Alice | Order: 5", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_Status_Failure_reply_must_fail_the_group_with_its_cause()
    {
        var aggregator = Aggregator(Service("profiles-failing"), TimeSpan.FromSeconds(10));

        aggregator.Tell(new Aggregate<int>(2));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal("profile", failed.Fetcher);
        Assert.Equal("profile store down", failed.Exception.Message);
    }

    [Fact]
    public async Task A_reply_of_the_wrong_type_must_fail_the_group()
    {
        var aggregator = Aggregator(Service("profiles-confused"), TimeSpan.FromSeconds(10));

        aggregator.Tell(new Aggregate<int>(3));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        AssertErrorType<InvalidCastException>(failed.Exception);
        Assert.Contains("expected a Profile reply, but got String", failed.Exception.Message);
    }

    [Fact]
    public async Task A_target_that_dies_must_fail_the_group()
    {
        var service = Service("profiles-dying");
        var aggregator = Aggregator(service, TimeSpan.FromSeconds(10));

        aggregator.Tell(new Aggregate<int>(4));

        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        AssertErrorType<AskTargetTerminatedException>(failed.Exception);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_silent_target_must_be_bounded_by_the_deadline_and_its_child_stopped()
    {
        var aggregator = Aggregator(Service("profiles-silent"), Ms(300));

        aggregator.Tell(new Aggregate<int>(99));

        var deadline = Assert.IsType<DeadlineExceeded>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        Assert.Equal(new[] { "profile" }, deadline.Pending);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_target_given_by_path_must_be_resolved_and_a_missing_one_must_fail()
    {
        Service("profiles-by-path");
        var byPath = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<Profile, string>("profile", ActorPath.Parse($"akka://{Sys.Name}/user/profiles-by-path"),
                id => new GetProfile(id), p => p.Name)
            .Build()));
        var missing = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Ask<Profile, string>("profile", ActorPath.Parse($"akka://{Sys.Name}/user/nobody-here"), id => new GetProfile(id), p => p.Name)
            .Build()));

        byPath.Tell(new Aggregate<int>(1));
        Assert.Equal("Alice", (await ExpectMsgAsync<AggregateSucceeded<string>>(Generous)).Result);

        missing.Tell(new Aggregate<int>(1));
        var failed = Assert.IsType<FetcherFailed>((await ExpectMsgAsync<AggregateFailed>(Generous)).Reason);
        AssertErrorType<ActorNotFoundException>(failed.Exception);
    }
}
