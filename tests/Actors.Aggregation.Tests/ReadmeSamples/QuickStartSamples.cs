// snippet:begin quick-start-usings
using Actors.Aggregation;
using Akka.Actor;
// snippet:end
using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

// Outside namespace Actors: there, Aggregation would name the namespace Actors.Aggregation instead of the type, as in a user's code it does not.
namespace ReadmeSamples;

/// <summary>The root README's quick start, compiled and run: it prints the combined text and an actor gets exactly one reply.</summary>
public sealed class QuickStartSamples(ITestOutputHelper output) : AggregationSpec(output)
{
    // Named as in an actor, where the quick start's Tell runs: Self.
    private static async Task<(string Text, ActorSystem System)> QuickStart(IActorRef Self)
    {
        // snippet:begin quick-start
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", async (id, ct) =>
            {
                await Task.Delay(100, ct); // stands in for an HttpClient call that is given the token
                return "Name: Alice";
            })
            .Fetch("orders", async (id, ct) =>
            {
                await Task.Delay(50, ct);
                return "Order: 5";
            })
            .WithTimeout(TimeSpan.FromSeconds(1))
            .Build();

        var system = ActorSystem.Create("demo");
        var aggregator = system.ActorOf(AggregatorActor.Props(dashboard), "dashboard");

        // From plain code: an Ask that returns the combined result or throws AggregationFailedException.
        string text = await aggregator.AggregateAsync<int, string>(1);
        Console.WriteLine(text); // Name: Alice | Order: 5

        // From an actor: Tell, then handle exactly one reply.
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "req-42", Timeout = TimeSpan.FromMilliseconds(500) }, Self);
        // -> AggregateSucceeded<string>("req-42", "Name: Alice | Order: 5", elapsed)
        //    or AggregateFailed("req-42", reason): FetcherFailed, DeadlineExceeded, AggregationCancelled or RequestRejected
        // snippet:end
        return (text, system);
    }

    [Fact]
    public async Task The_quick_start_must_print_the_combined_text_and_answer_the_actor_once()
    {
        var console = Console.Out;
        var printed = new StringWriter();
        Console.SetOut(printed);
        ActorSystem system;
        try
        {
            (_, system) = await QuickStart(TestActor);
        }
        finally
        {
            Console.SetOut(console);
        }
        try
        {
            // The actor system may log to the console too; the quick start's own output is one line.
            Assert.Single(printed.ToString().Split(Environment.NewLine), line => line == "Name: Alice | Order: 5");
            var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
            Assert.Equal("req-42", reply.RequestId);
            Assert.Equal("Name: Alice | Order: 5", reply.Result);
            await ExpectNoMsgAsync(Ms(300));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
