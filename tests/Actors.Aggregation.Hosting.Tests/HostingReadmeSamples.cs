// snippet:begin hosting-usings
using Actors.Aggregation;
using Actors.Aggregation.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
// snippet:end
using Actors.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Xunit;

// Outside namespace Actors: there, Aggregation would name the namespace Actors.Aggregation instead of the type, as in a user's code it does not.
namespace ReadmeSamples;

/// <summary>The examples of src/Actors.Aggregation.Hosting/README.md, compiled and run, each asserting what the README says it does.</summary>
public sealed class HostingReadmeSamples
{
    // snippet:begin hosting-key
    public sealed class DashboardAggregator { private DashboardAggregator() { } } // the registry key: a marker type of yours
    // snippet:end

    public sealed class TotalsAggregator { private TotalsAggregator() { } }

    public sealed class SearchAggregator { private SearchAggregator() { } }

    public sealed record Totals(string Name, int Orders);

    private static async Task<string> HostingExample()
    {
        // snippet:begin hosting
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", async (id, ct) => { await Task.Delay(100, ct); return "Name: Alice"; })
            .Fetch("orders", async (id, ct) => { await Task.Delay(50, ct); return "Order: 5"; })
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
        // snippet:end
        return text;
    }

    [Fact]
    public async Task The_hosting_example_must_return_the_combined_text() =>
        Assert.Equal("Name: Alice | Order: 5", await HostingExample());

    [Fact]
    public async Task Each_overload_must_register_its_aggregator_whatever_its_result_type()
    {
        var dashboard = Aggregation.For<int>().Fetch("profile", (_, _) => Task.FromResult("Name: Alice")).Build();
        var totals = Aggregation.For<int>()
            .Fetch("profile", (_, _) => Task.FromResult("Alice"))
            .Fetch("orders", async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return 5; })
            .Combine(parts => new Totals(parts.Get<string>("profile"), parts.Get<int>("orders")))
            .Build();
        var search = Aggregation.For<string>().Fetch("shard", (q, _) => Task.FromResult($"found {q}")).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Shop:Totals:Timeout"] = "250ms";

        // snippet:begin hosting-overloads
        builder.Services.AddAkka("shop", akka => akka
            .WithAggregator<DashboardAggregator, int>(dashboard, timeout: TimeSpan.FromSeconds(2), maxInFlight: 500)
            .WithAggregator<TotalsAggregator, int>(totals, new AggregatorOptions { ConfigurationSection = "Shop:Totals" })
            .WithAggregator<SearchAggregator, string>(search, options => options.ActorName = "search"));
        // snippet:end
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var first = await host.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();
            var second = await host.Services.GetRequiredService<IRequiredActor<TotalsAggregator>>().GetAsync();
            var third = await host.Services.GetRequiredService<IRequiredActor<SearchAggregator>>().GetAsync();

            Assert.Equal("/user/dashboard-aggregator", first.Path.ToStringWithoutAddress());
            Assert.Equal("/user/totals-aggregator", second.Path.ToStringWithoutAddress());
            Assert.Equal("/user/search", third.Path.ToStringWithoutAddress());
            Assert.Equal("Name: Alice", await first.AggregateAsync<int, string>(1));
            Assert.Equal("found actors", await third.AggregateAsync<string, string>("actors"));
            // Totals reads its options from Shop:Totals: its orders part never comes, and its deadline is the configured 250 ms.
            var late = await Assert.ThrowsAsync<AggregationFailedException>(() => second.AggregateAsync<int, Totals>(1));
            Assert.Equal(TimeSpan.FromMilliseconds(250), Assert.IsType<DeadlineExceeded>(late.Reason).Timeout);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static int CheckConfiguration(IConfiguration configuration)
    {
        // snippet:begin hosting-validate-early
        try
        {
            AggregatorOptions.FromConfiguration(configuration, "Aggregation:Dashboard"); // what WithAggregator reads at start
        }
        catch (AggregationConfigurationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}"); // one line that names the setting
            return 2;
        }
        // snippet:end
        return 0;
    }

    [Fact]
    public void Bad_configuration_must_be_reported_early_in_one_line()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Aggregation:Dashboard:Timeout"] = "-00:00:01" })
            .Build();
        var console = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        int exitCode;
        try
        {
            exitCode = CheckConfiguration(configuration);
        }
        finally
        {
            Console.SetError(console);
        }

        Assert.Equal(2, exitCode);
        Assert.Equal("error: Aggregation:Dashboard:Timeout must be a positive duration of at most 49 days, such as 00:00:01, 1s or 250ms, but was '-00:00:01'."
            + Environment.NewLine, error.ToString());
    }

    [Fact]
    public void A_timeout_over_49_days_must_be_refused_in_code_and_in_configuration()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "too-long");
        var dashboard = Aggregation.For<int>().Fetch("profile", (_, _) => Task.FromResult("Name: Alice")).Build();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Aggregation:Dashboard:Timeout"] = "1200h" })
            .Build();

        var inCode = Assert.Throws<AggregationConfigurationException>(() =>
            builder.WithAggregator<DashboardAggregator, int>(dashboard, timeout: TimeSpan.FromDays(50)));
        var inConfiguration = Assert.Throws<AggregationConfigurationException>(() =>
            AggregatorOptions.FromConfiguration(configuration, "Aggregation:Dashboard"));

        Assert.Equal("AggregatorOptions.Timeout", inCode.Setting);
        Assert.Contains("at most 49 days", inCode.Message);
        Assert.Equal("Aggregation:Dashboard:Timeout", inConfiguration.Setting);
        Assert.Contains("at most 49 days", inConfiguration.Message);
        Assert.NotNull(AggregatorOptions.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["A:Timeout"] = "1176h" }).Build(), "A").Timeout);
    }

    [Fact]
    public void The_validation_messages_the_README_shows_must_be_the_ones_thrown()
    {
        var root = DocSnippets.RepositoryRoot();
        var shown = Assert.Single(DocSnippets.CodeBlocks(root, "src/Actors.Aggregation.Hosting/README.md"), b => b.Language == "text").Text.Split('\n');
        var dashboard = Aggregation.For<int>().Fetch("profile", (_, _) => Task.FromResult("Name: Alice")).Build();
        static string FromConfiguration(string key, string value) => Assert.Throws<AggregationConfigurationException>(() =>
            AggregatorOptions.FromConfiguration(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { [$"Aggregation:Dashboard:{key}"] = value }).Build(), "Aggregation:Dashboard")).Message;

        string[] thrown =
        [
            FromConfiguration("Timeout", "-00:00:01"),
            FromConfiguration("Timout", "1s"),
            Assert.Throws<AggregationConfigurationException>(() => new AkkaConfigurationBuilder(new ServiceCollection(), "shop")
                .WithAggregator<DashboardAggregator, int>(dashboard, timeout: TimeSpan.FromSeconds(-1))).Message,
        ];

        Assert.Equal(thrown, shown);
    }
}
