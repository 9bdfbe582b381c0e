using System.Runtime.CompilerServices;
using Actors.Aggregation;
using Actors.Aggregation.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

// Outside namespace Actors: there, Aggregation would name the namespace Actors.Aggregation instead of the type, as in a user's code it does not.
namespace ReadmeSamples;

/// <summary>The README's hosting example is this code, compiled and run here; a spec checks the README still shows it verbatim.</summary>
public sealed class ReadmeSpecs
{
    // README:key-begin
    public sealed class DashboardAggregator { private DashboardAggregator() { } } // the registry key: a marker type of yours
    // README:key-end

    private static async Task<string> HostingExample()
    {
        // README:begin
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", async (int id, CancellationToken ct) => { await Task.Delay(100, ct); return "Name: Alice"; })
            .Fetch("orders", async (int id, CancellationToken ct) => { await Task.Delay(50, ct); return "Order: 5"; })
            .Build();

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Aggregation:Dashboard:Timeout"] = "00:00:03"; // or appsettings.json, environment, command line
        builder.Services.AddAkka("shop", akka => akka
            .ConfigureLoggers(loggers => loggers.ClearLoggers().AddLoggerFactory())
            .WithAggregator<DashboardAggregator, int>(dashboard));
        using var host = builder.Build();
        await host.StartAsync();

        // Anything resolved from DI (services, endpoints, actors' constructors) can take IRequiredActor<DashboardAggregator>.
        var aggregator = await host.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();
        string text = await aggregator.AggregateAsync<int, string>(1); // Name: Alice | Order: 5

        await host.StopAsync(); // CoordinatedShutdown: requests in flight get AggregationCancelled, every fetch's token fires
        // README:end
        return text;
    }

    [Fact]
    public async Task The_hosting_example_must_run_and_return_the_kata_result() =>
        Assert.Equal("Name: Alice | Order: 5", await HostingExample());

    [Fact]
    public void The_README_must_show_the_hosting_example_verbatim()
    {
        var readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", "README.md")).Replace("\r\n", "\n");

        Assert.Contains(Region("README:key", indent: 4), readme);
        Assert.Contains(Region("README", indent: 8), readme);
    }

    private static string Region(string marker, int indent)
    {
        var source = File.ReadAllLines(ThisFile());
        var begin = Array.FindIndex(source, l => l.Trim() == $"// {marker}:begin" || l.Trim() == $"// {marker}-begin");
        var end = Array.FindIndex(source, l => l.Trim() == $"// {marker}:end" || l.Trim() == $"// {marker}-end");
        return string.Join("\n", source[(begin + 1)..end].Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
