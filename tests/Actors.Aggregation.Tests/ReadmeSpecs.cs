using System.Runtime.CompilerServices;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests;

/// <summary>The README's quick start is this code, compiled and run here; a spec checks the README still shows it verbatim.</summary>
public sealed class ReadmeSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static async Task<(string Text, ActorSystem System)> QuickStart(IActorRef self)
    {
        // README:begin
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", async (int id, CancellationToken ct) =>
            {
                await Task.Delay(100, ct); // stands in for an HttpClient call that is given the token
                return "Name: Alice";
            })
            .Fetch("orders", async (int id, CancellationToken ct) =>
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
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "req-42", Timeout = TimeSpan.FromMilliseconds(500) }, self);
        // -> AggregateSucceeded<string>("req-42", "Name: Alice | Order: 5", elapsed)
        //    or AggregateFailed("req-42", reason): FetcherFailed, DeadlineExceeded, AggregationCancelled or RequestRejected
        // README:end
        return (text, system);
    }

    [Fact]
    public async Task The_quick_start_must_run_and_print_the_kata_result()
    {
        var (text, system) = await QuickStart(TestActor);
        try
        {
            Assert.Equal("Name: Alice | Order: 5", text);
            var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
            Assert.Equal("req-42", reply.RequestId);
            Assert.Equal("Name: Alice | Order: 5", reply.Result);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void The_README_must_show_the_quick_start_verbatim()
    {
        var source = File.ReadAllLines(ThisFile());
        var begin = Array.FindIndex(source, l => l.Trim() == "// README:begin");
        var end = Array.FindIndex(source, l => l.Trim() == "// README:end");
        var block = source[(begin + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart());
        var readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", "README.md")).Replace("\r\n", "\n");

        Assert.Contains(string.Join("\n", block), readme);
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
