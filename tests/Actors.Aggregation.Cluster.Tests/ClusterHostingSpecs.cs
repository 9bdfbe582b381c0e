// snippet:begin cluster-usings
using Actors.Aggregation;
using Actors.Aggregation.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
// snippet:end
using Akka.Actor;
using Xunit;

// Outside namespace Actors: there, Aggregation would name the namespace Actors.Aggregation instead of the type, as in a user's code it does not.
namespace ClusterSamples;

/// <summary>WithClusterAggregator through a real IHost: the example of src/Actors.Aggregation.Cluster/README.md, run.</summary>
public sealed class ClusterHostingSpecs
{
    public sealed class DashboardAggregator { private DashboardAggregator() { } }

    [Fact]
    public async Task A_host_registered_with_WithClusterAggregator_must_serve_through_its_front_and_answer_every_request_on_shutdown()
    {
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", async (id, ct) =>
            {
                if (id == 0) await Task.Delay(Timeout.Infinite, ct); // key 0 hangs until cancelled
                return "Name: Alice";
            })
            .Fetch("orders", (id, ct) => Task.FromResult("Order: 5"))
            .Build();

        // snippet:begin cluster-hosting
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("shop", akka => akka
            .WithRemoting("127.0.0.1", 0)                                 // a fixed port in production
            .WithClustering(new ClusterOptions { Roles = ["worker"] })    // and SeedNodes = [...]
            .WithClusterAggregator<DashboardAggregator, int>(dashboard, new ClusterAggregatorOptions
            {
                Role = "worker",       // the members that run aggregators; every member runs the front
                InstancesPerNode = 4,  // aggregators per worker, behind its pool front
            }));
        using var host = builder.Build();
        await host.StartAsync();
        // snippet:end
        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Akka.Cluster.Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(TimeSpan.FromSeconds(20)); // a cluster of one, for the spec

        var front = await host.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();
        Assert.Equal("/user/dashboard-aggregator", front.Path.ToStringWithoutAddress());
        string text = "";
        for (var attempt = 0; attempt < 100 && text.Length == 0; attempt++)
        {
            // The front finds the member's pool once the member is up.
            try { text = await front.AggregateAsync<int, string>(1); }
            catch (AggregationFailedException e) when (e.Reason is RequestRejected) { await Task.Delay(100); }
        }
        Assert.Equal("Name: Alice | Order: 5", text);
        var stats = await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(1, stats.Aggregators); // the member's pool front, over its 4 aggregators
        Assert.Equal(1, (await front.Ask<AggregatorStats>(GetAggregatorStats.Instance, TimeSpan.FromSeconds(5))).Accepted); // summed over the pool

        var hanging = front.AggregateAsync<int, string>(0, TimeSpan.FromSeconds(30));
        while ((await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(5))).InFlight == 0) await Task.Yield();
        await host.StopAsync(); // drains (new requests refused), then answers what is left

        var failed = await Assert.ThrowsAsync<AggregationFailedException>(() => hanging);
        Assert.IsType<AggregationCancelled>(failed.Reason);
    }
}
