using Actors.Aggregation.Hosting;
using Actors.Dashboard.Services;
using Actors.Aggregation;
using Actors.Aggregation.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Serilog;
using Serilog.Formatting.Compact;
using Serilog.Settings.Configuration;

namespace Actors.Dashboard;

/// <summary>What the program was asked to do.</summary>
public enum DashboardMode
{
    /// <summary>Run the kata's three cases once on a free loopback port, print them, exit.</summary>
    Demo,

    /// <summary>Serve <c>GET /dashboard/{id}</c> on <c>Urls</c> until stopped.</summary>
    Serve,
}

/// <summary>
/// Builds the host: configuration from <c>config/appsettings.json</c> (then <c>appsettings.{Environment}.json</c>, environment
/// variables and the command line), Serilog from its <c>Serilog</c> section, Kestrel on the loopback address, the two downstream
/// services, the aggregator registered through Akka.Hosting, and the dashboard endpoint.
/// </summary>
public static class DashboardHost
{
    /// <summary>The demo listens on a port the system picks, so it never collides with a running <c>serve</c>.</summary>
    public const string DemoUrls = "http://127.0.0.1:0";

    /// <summary>
    /// Akka filters its events before Serilog sees them: its level is the most verbose Serilog lets through for Akka's and
    /// the library's events (<c>Serilog:MinimumLevel</c>, or its <c>Default</c> and any <c>Override</c> for <c>Akka</c> or
    /// <c>Actors</c>), so that <c>--Serilog:MinimumLevel:Default=Debug</c> shows the library's Debug events too.
    /// </summary>
    internal static Akka.Event.LogLevel AkkaLogLevel(IConfiguration configuration)
    {
        var minimum = configuration.GetSection("Serilog:MinimumLevel");
        var levels = new List<string?> { minimum.Value ?? minimum["Default"] };
        levels.AddRange(minimum.GetSection("Override").GetChildren()
            .Where(o => o.Key.StartsWith("Akka", StringComparison.Ordinal) || o.Key.StartsWith("Actors", StringComparison.Ordinal))
            .Select(o => o.Value));
        return levels.Select(level => level?.Trim().ToUpperInvariant() switch
        {
            "VERBOSE" or "DEBUG" => Akka.Event.LogLevel.DebugLevel,
            "WARNING" => Akka.Event.LogLevel.WarningLevel,
            "ERROR" or "FATAL" => Akka.Event.LogLevel.ErrorLevel,
            _ => Akka.Event.LogLevel.InfoLevel, // Information, or unset (Serilog's own default)
        }).Min();
    }

    /// <summary>Builds the host; nothing is started or bound yet (the configured port is only checked to be free).</summary>
    /// <param name="args">Configuration arguments, e.g. <c>--urls http://127.0.0.1:5081</c> or <c>--Aggregation:Dashboard:Timeout=2s</c>.</param>
    /// <param name="mode">Demo listens on <see cref="DemoUrls"/>; serve on <c>Urls</c>.</param>
    /// <exception cref="DashboardConfigurationException">A dashboard setting is wrong.</exception>
    /// <exception cref="AggregationConfigurationException">An aggregation setting is wrong.</exception>
    public static WebApplication Build(string[] args, DashboardMode mode) => Build(args, mode, null);

    /// <summary>Builds the host, with a spec's own exporters added to its OpenTelemetry SDK.</summary>
    internal static WebApplication Build(string[] args, DashboardMode mode, DashboardTelemetryHooks? telemetry)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var configDirectory = Path.Combine(AppContext.BaseDirectory, "config");
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(configDirectory, "appsettings.json"), optional: false, reloadOnChange: false)
            .AddJsonFile(Path.Combine(configDirectory, $"appsettings.{builder.Environment.EnvironmentName}.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddCommandLine(args);

        var settings = DashboardSettings.Read(builder.Configuration, mode == DashboardMode.Demo ? DemoUrls : null);
        builder.WebHost.UseUrls(settings.Urls);
        builder.Services.AddSingleton(settings);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        // The demo exits by itself: "Press Ctrl+C to shut down" would mislead.
        if (mode == DashboardMode.Demo) builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);

        // Readable console by default; Serilog:WriteTo:0:Args:formatter switches to JSON (see README).
        var serilogAssemblies = new ConfigurationReaderOptions(typeof(ConsoleLoggerConfigurationExtensions).Assembly, typeof(CompactJsonFormatter).Assembly);
        builder.Services.AddSerilog((_, logger) => logger.ReadFrom.Configuration(builder.Configuration, serilogAssemblies));

        // No HttpClient timeout: the aggregation's deadline and cancellation decide when a call ends.
        builder.Services.AddHttpClient(DownstreamClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<LoopbackServices>();
        builder.Services.AddSingleton<DownstreamClient>();
        DashboardTelemetry.Add(builder.Services, settings.Telemetry, telemetry);

        builder.Services.AddAkka("dashboard", (akka, services) =>
        {
            akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = AkkaLogLevel(builder.Configuration);
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            var definition = DashboardAggregator.Definition(services.GetRequiredService<DownstreamClient>(), settings.OrdersPart);
            if (settings.Cluster is { } cluster) JoinCluster(akka, cluster, definition);
            else akka.WithAggregator<DashboardAggregator, int>(definition);
        });
        // GET /requests (and the demo's waterfalls): the library's spans of recent requests, kept in memory.
        var recordRequests = mode == DashboardMode.Demo || settings.Telemetry.RequestsPage;
        if (recordRequests) Requests.RequestRecorder.Register(builder.Services);

        var app = builder.Build();
        app.Services.GetRequiredService<LoopbackServices>().Map(app);
        DashboardEndpoint.Map(app);
        DashboardTelemetry.Map(app, settings.Telemetry);
        if (recordRequests) Requests.RequestsPage.Map(app);
        return app;
    }

    /// <summary>
    /// The host as a cluster member on 127.0.0.1: every member runs the cluster front (the endpoint's aggregator), workers
    /// run a pool of aggregators too. Akka's split-brain resolver, keep-oldest (start the front first: it is the oldest),
    /// downs a member that stays unreachable for <see cref="DashboardClusterSettings.StableAfter"/>; its requests are then
    /// answered <c>NodeFailed</c>. Without seed nodes the host joins itself, as the first member of a new cluster.
    /// </summary>
    private static void JoinCluster(AkkaConfigurationBuilder akka, DashboardClusterSettings cluster, AggregationDefinition<int> definition)
    {
        akka.AddHocon($$"""
                akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                akka.cluster.split-brain-resolver.active-strategy = keep-oldest
                akka.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
                akka.cluster.split-brain-resolver.stable-after = {{(long)cluster.StableAfter.TotalMilliseconds}}ms
                akka.cluster.failure-detector.heartbeat-interval = 500ms
                akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
                """, HoconAddMode.Prepend)
            .WithRemoting("127.0.0.1", cluster.Port)
            .WithClustering(new ClusterOptions { Roles = cluster.Roles.ToArray(), SeedNodes = cluster.SeedNodes.ToArray() })
            .WithClusterAggregator<DashboardAggregator, int>(definition, new ClusterAggregatorOptions
            {
                Role = DashboardClusterSettings.WorkerRole,
                InstancesPerNode = cluster.InstancesPerNode,
            })
            .WithActors((system, _) =>
            {
                if (cluster.SeedNodes.Count > 0) return;
                var self = Akka.Cluster.Cluster.Get(system);
                self.Join(self.SelfAddress);
            });
    }
}
