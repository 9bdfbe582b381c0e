using System.Collections.Concurrent;
using Actors.Aggregation;
using Actors.Aggregation.Hosting;
using Actors.Tests.Shared;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Actors.Aggregation.Hosting.Tests;

/// <summary>WithAggregator: registry, round trip, options layered HOCON → IConfiguration → code, and the stop through CoordinatedShutdown.</summary>
public sealed class HostingSpecs
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private sealed class DashboardAggregator
    {
        private DashboardAggregator() { }
    }

    private sealed class TotalsAggregator
    {
        private TotalsAggregator() { }
    }

    private sealed class LayeredAggregator
    {
        private LayeredAggregator() { }
    }

    private sealed record Totals(string Name, int Orders);

    private static AggregationDefinition<int, string> Kata() =>
        Aggregation.For<int>()
            .Fetch("profile", async (int _, CancellationToken ct) =>
            {
                await Task.Delay(50, ct);
                return "Name: Alice";
            })
            .Fetch("orders", async (int _, CancellationToken ct) =>
            {
                await Task.Delay(20, ct);
                return "Order: 5";
            })
            .Build();

    private static IHost Host(Action<AkkaConfigurationBuilder> configure, Dictionary<string, string?>? configuration = null) =>
        new HostBuilder()
            .ConfigureAppConfiguration(config => config.AddInMemoryCollection(configuration ?? []))
            .ConfigureServices(services => services.AddAkka("hosting-spec", akka =>
            {
                akka.ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                });
                configure(akka);
            }))
            .Build();

    [Fact]
    public async Task The_registry_must_resolve_the_aggregator_and_a_request_must_round_trip()
    {
        using var host = Host(akka => akka.WithAggregator<DashboardAggregator, int>(Kata()));
        await host.StartAsync();
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();

            Assert.Equal("/user/dashboard-aggregator", aggregator.Path.ToStringWithoutAddress());
            Assert.Equal("Name: Alice | Order: 5", await aggregator.AggregateAsync<int, string>(1));
            Assert.Same(aggregator, host.Services.GetRequiredService<ActorRegistry>().Get<DashboardAggregator>());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_custom_result_must_round_trip_through_the_TResult_overload_with_options_set_by_a_delegate()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", (int id, CancellationToken _) => Task.FromResult($"user-{id}"))
            .Fetch("orders", (int id, CancellationToken _) => Task.FromResult(id * 10))
            .Combine(parts => new Totals(parts.Get<string>("profile"), parts.Get<int>("orders")))
            .Build();
        using var host = Host(akka => akka.WithAggregator<TotalsAggregator, int>(definition, options => options.ActorName = "totals"));
        await host.StartAsync();
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<TotalsAggregator>>().GetAsync();

            Assert.Equal("/user/totals", aggregator.Path.ToStringWithoutAddress());
            Assert.Equal(new Totals("user-4", 40), await aggregator.AggregateAsync<int, Totals>(4));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Host_shutdown_must_answer_every_in_flight_request_with_AggregationCancelled_and_fire_every_token()
    {
        var probes = new ConcurrentDictionary<(int, string), TokenProbe>();
        TokenProbe Probe(int id, string fetcher) => probes.GetOrAdd((id, fetcher), _ => new TokenProbe());
        var definition = Aggregation.For<int>()
            .Fetch("profile", Fetches.Hang<int, string>(id => Probe(id, "profile")))
            .Fetch("orders", Fetches.Hang<int, string>(id => Probe(id, "orders")))
            .WithTimeout(TimeSpan.FromMinutes(1))
            .Build();
        using var host = Host(akka => akka.WithAggregator<DashboardAggregator, int>(definition));
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        var aggregator = await host.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();

        // Request 1 from plain code (an Ask); request 2 from an actor of the same system.
        var fromCode = aggregator.AggregateAsync<int, string>(1);
        var heard = new TaskCompletionSource<IAggregateReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new Requester(aggregator, 2, heard)), "requester");
        foreach (var id in new[] { 1, 2 })
        foreach (var fetcher in new[] { "profile", "orders" })
            await Probe(id, fetcher).WhenStarted();
        // Observe from the last phase before the system terminates: by then both requesters must have their answer, and the
        // requester actor, still alive, must have received it. (After that phase it would be stopped with its mailbox.)
        var beforeTermination = new TaskCompletionSource<(bool AskAnswered, IAggregateReply? ActorHeard)>(TaskCreationOptions.RunContinuationsAsynchronously);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "observe-replies", async () =>
        {
            var actorHeard = await heard.Task.WaitAsync(TimeSpan.FromSeconds(3)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
            // The Ask's reply has arrived when its temporary actor got it; the awaiting code resumes a scheduling hop later.
            var askAnswered = await Task.WhenAny(fromCode, Task.Delay(TimeSpan.FromSeconds(3))) == fromCode;
            beforeTermination.TrySetResult((askAnswered, actorHeard));
            return Done.Instance;
        });

        await host.StopAsync();

        var (askAnswered, actorHeard) = await beforeTermination.Task.WaitAsync(Generous);
        Assert.True(askAnswered, "the Ask had no answer when the actor system began to terminate");
        var reply = Assert.IsType<AggregateFailed>(actorHeard);
        Assert.Contains("shutting down", Assert.IsType<AggregationCancelled>(reply.Reason).Reason);
        var thrown = await Assert.ThrowsAsync<AggregationFailedException>(() => fromCode.WaitAsync(Generous));
        Assert.Contains("shutting down", Assert.IsType<AggregationCancelled>(thrown.Reason).Reason);
        foreach (var probe in probes.Values) await probe.WhenCancelled();
        Assert.Equal(4, probes.Count);
        await system.WhenTerminated.WaitAsync(Generous);
    }

    /// <summary>Sends one request and hands its reply to the test.</summary>
    private sealed class Requester : UntypedActor
    {
        private readonly TaskCompletionSource<IAggregateReply> _heard;

        public Requester(IActorRef aggregator, int id, TaskCompletionSource<IAggregateReply> heard)
        {
            _heard = heard;
            aggregator.Tell(new Aggregate<int>(id), Self);
        }

        protected override void OnReceive(object message)
        {
            if (message is IAggregateReply reply) _heard.TrySetResult(reply);
            else Unhandled(message);
        }
    }

    [Fact]
    public async Task Options_must_layer_HOCON_then_configuration_then_code()
    {
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var definition = Aggregation.For<int>()
            .Fetch("slow", Fetches.Hang<int, string>(id => probes.GetOrAdd(id, _ => new TokenProbe())))
            .WithTimeout(TimeSpan.FromSeconds(20)) // below configuration: the configured Timeout replaces it
            .Build();
        using var host = Host(
            akka => akka
                .AddHocon(ConfigurationFactory.ParseString("actors.aggregation { default-timeout = 30s, max-in-flight = 1 }"), HoconAddMode.Prepend)
                .WithAggregator<LayeredAggregator, int>(definition, new AggregatorOptions { MaxInFlight = 3 }),
            new() { ["Aggregation:Layered:Timeout"] = "400ms", ["Aggregation:Layered:MaxInFlight"] = "2" });
        await host.StartAsync();
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<LayeredAggregator>>().GetAsync();

            // Code's MaxInFlight = 3 beats configuration's 2 and HOCON's 1: the fourth concurrent request is the one rejected.
            var calls = Enumerable.Range(1, 4).Select(id => aggregator.AggregateAsync<int, string>(id)).ToArray();
            var reasons = new List<AggregationFailure>();
            foreach (var call in calls)
                reasons.Add((await Assert.ThrowsAsync<AggregationFailedException>(() => call.WaitAsync(Generous))).Reason);

            Assert.Equal(RequestRejected.Busy, Assert.IsType<RequestRejected>(reasons[3]).Reason);
            // Configuration's Timeout = 400ms beats the definition's 20 s and HOCON's 30 s.
            foreach (var reason in reasons.Take(3))
                Assert.Equal(TimeSpan.FromMilliseconds(400), Assert.IsType<DeadlineExceeded>(reason).Timeout);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void A_value_left_null_must_keep_the_HOCON_value()
    {
        var hocon = AggregationSettings.Create(ConfigurationFactory.ParseString("max-in-flight = 1\nabandoned-fetch-grace = 123ms"));
        var fromConfiguration = new AggregatorOptions { MaxInFlight = 2 };
        var fromCode = new AggregatorOptions { AbandonedFetchGrace = TimeSpan.FromMilliseconds(50) };

        var settings = fromConfiguration.OverriddenBy(fromCode).ApplyTo(hocon);
        Assert.Equal(2, settings.MaxInFlight);
        Assert.Equal(TimeSpan.FromMilliseconds(50), settings.AbandonedFetchGrace);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.DefaultTimeout);

        var untouched = new AggregatorOptions().ApplyTo(hocon);
        Assert.Equal(1, untouched.MaxInFlight);
        Assert.Equal(TimeSpan.FromMilliseconds(123), untouched.AbandonedFetchGrace);
    }

    [Theory]
    [InlineData("Timeout", "-00:00:01")]
    [InlineData("Timeout", "0s")]
    [InlineData("Timeout", "5")] // TimeSpan would read five days
    [InlineData("Timeout", "soon")]
    [InlineData("MaxInFlight", "-1")]
    [InlineData("MaxInFlight", "many")]
    [InlineData("AbandonedFetchGrace", "-250ms")]
    [InlineData("Timout", "1s")]
    [InlineData("Timeout:Seconds", "1")]
    public void Bad_configuration_must_fail_with_one_line_naming_the_setting(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"Aggregation:Dashboard:{key}"] = value }).Build();

        var error = Assert.Throws<AggregationConfigurationException>(() => AggregatorOptions.FromConfiguration(configuration, "Aggregation:Dashboard"));

        Assert.Equal($"Aggregation:Dashboard:{key.Split(':')[0]}", error.Setting);
        Assert.StartsWith(error.Setting, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("00:00:01", 1000)]
    [InlineData("1s", 1000)]
    [InlineData("1.5s", 1500)]
    [InlineData("250ms", 250)]
    [InlineData("2m", 120_000)]
    public void Durations_must_read_as_TimeSpan_or_with_a_unit(string text, int milliseconds)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["A:B:Timeout"] = text }).Build();

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), AggregatorOptions.FromConfiguration(configuration, "A:B").Timeout);
    }

    [Fact]
    public void Bad_options_in_code_must_fail_at_registration_naming_the_property()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "bad-options");

        var timeout = Assert.Throws<AggregationConfigurationException>(() =>
            builder.WithAggregator<DashboardAggregator, int>(Kata(), options => options.Timeout = TimeSpan.FromSeconds(-1)));
        var name = Assert.Throws<AggregationConfigurationException>(() =>
            builder.WithAggregator<DashboardAggregator, int>(Kata(), new AggregatorOptions { ActorName = "no spaces" }));

        Assert.Equal("AggregatorOptions.Timeout", timeout.Setting);
        Assert.Equal("AggregatorOptions.ActorName", name.Setting);
    }

    [Fact]
    public void Defaults_must_follow_the_key_type_name()
    {
        Assert.Equal("dashboard-aggregator", AggregatorOptions.DefaultActorName(typeof(DashboardAggregator)));
        Assert.Equal("Aggregation:Dashboard", AggregatorOptions.DefaultConfigurationSection(typeof(DashboardAggregator)));
        Assert.Equal("Aggregation:Totals", AggregatorOptions.DefaultConfigurationSection(typeof(TotalsAggregator)));
    }

    [Fact]
    public async Task WithAggregator_and_WithAggregationSerializer_must_give_the_system_the_libraries_wire_format()
    {
        foreach (var configure in new Action<AkkaConfigurationBuilder>[]
                 {
                     akka => akka.WithAggregator<DashboardAggregator, int>(Kata()),
                     akka => akka.WithAggregationSerializer(), // a node that only sends requests
                 })
        {
            using var host = Host(configure);
            await host.StartAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();

            foreach (var message in new object[] { new Aggregate<int>(1), new CancelAggregate("r"), new AggregateFailed("r", new RequestRejected("busy")) })
                Assert.IsType<Actors.Aggregation.Serialization.AggregationSerializer>(system.Serialization.FindSerializerFor(message));
            await host.StopAsync();
        }
    }
}
