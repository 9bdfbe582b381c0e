using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Aggregation.Hosting;
using Actors.Dashboard.Services;

namespace Actors.Dashboard;

/// <summary>Bad configuration: the message is one line that names the setting, shown to the user as it is.</summary>
public sealed class DashboardConfigurationException(string setting, string message) : Exception(message)
{
    /// <summary>The setting's name, e.g. <c>Dashboard:Services:Profile:Latency</c> or <c>Urls</c>.</summary>
    public string Setting { get; } = setting;
}

/// <summary>
/// The host's configuration, read and checked before anything starts, so a mistake ends the program with one line
/// that names the setting. Every key under <c>Dashboard</c> and <c>Aggregation</c> must be known.
/// </summary>
public sealed class DashboardSettings
{
    /// <summary>Where <c>serve</c> listens when neither <c>Urls</c> nor <c>--urls</c> says otherwise.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>The configuration section of the dashboard's aggregator (the default for <see cref="DashboardAggregator"/>).</summary>
    public static readonly string AggregatorSection = AggregatorOptions.DefaultConfigurationSection(typeof(DashboardAggregator));

    private DashboardSettings(string urls, ServiceBehaviour profile, ServiceBehaviour orders, DashboardOrdersPart ordersPart,
        AggregatorOptions aggregator, DashboardClusterSettings? cluster, DashboardTelemetrySettings telemetry)
    {
        Telemetry = telemetry;
        Cluster = cluster;
        OrdersPart = ordersPart;
        Urls = urls;
        Profile = profile;
        Orders = orders;
        Aggregator = aggregator;
    }

    /// <summary>The addresses the host listens on (<c>Urls</c>, or <c>--urls</c>), <c>;</c>-separated.</summary>
    public string Urls { get; }

    /// <summary>How the profile service behaves at start (<c>Dashboard:Services:Profile</c>).</summary>
    public ServiceBehaviour Profile { get; }

    /// <summary>How the orders service behaves at start (<c>Dashboard:Services:Orders</c>).</summary>
    public ServiceBehaviour Orders { get; }

    /// <summary>How the aggregation treats its <c>orders</c> part (<c>Dashboard:Orders</c>): required by default.</summary>
    public DashboardOrdersPart OrdersPart { get; }

    /// <summary>The aggregator's options from <c>Aggregation:Dashboard</c>, checked by the hosting library's own reader.</summary>
    public AggregatorOptions Aggregator { get; }

    /// <summary>Where the host's traces and metrics go (<c>Dashboard:Telemetry</c>); nowhere by default.</summary>
    public DashboardTelemetrySettings Telemetry { get; }

    /// <summary>Whether and how the host joins an Akka.NET cluster (<c>Dashboard:Cluster</c>); null: a single node.</summary>
    public DashboardClusterSettings? Cluster { get; }

    /// <summary>Reads and checks the configuration.</summary>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="urlsOverride">Listen here instead of <c>Urls</c> (the demo listens on a free port).</param>
    /// <exception cref="DashboardConfigurationException">A dashboard setting is wrong.</exception>
    /// <exception cref="AggregationConfigurationException">An aggregation setting is wrong.</exception>
    public static DashboardSettings Read(IConfiguration configuration, string? urlsOverride = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        RequireKnown(configuration.GetSection("Dashboard"), "the dashboard", "Services", "Orders", "Cluster", "Telemetry");
        var services = configuration.GetSection("Dashboard:Services");
        RequireKnown(services, "the services", "Profile", "Orders");
        var profile = ReadService(services.GetSection("Profile"), new ServiceBehaviour(TimeSpan.FromMilliseconds(200), 0));
        var orders = ReadService(services.GetSection("Orders"), new ServiceBehaviour(TimeSpan.FromMilliseconds(100), 0));

        var aggregatorName = AggregatorSection["Aggregation:".Length..];
        RequireKnown(configuration.GetSection("Aggregation"), "Aggregation (the aggregators of this host)", aggregatorName);
        var aggregator = AggregatorOptions.FromConfiguration(configuration, AggregatorSection);

        var urls = urlsOverride ?? configuration["Urls"] ?? DefaultUrls;
        CheckUrls(urls, urlsOverride is null ? "Urls" : "the demo's address");
        return new DashboardSettings(urls, profile, orders, ReadOrdersPart(configuration.GetSection("Dashboard:Orders")), aggregator,
            ReadCluster(configuration.GetSection("Dashboard:Cluster")), ReadTelemetry(configuration));
    }

    private static DashboardTelemetrySettings ReadTelemetry(IConfiguration configuration)
    {
        var section = configuration.GetSection("Dashboard:Telemetry");
        RequireKnown(section, "telemetry", "Exporter", "Prometheus", "ServiceName", "RequestsPage");
        var exporter = (section["Exporter"]?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "none" => TelemetryExporter.None,
            "console" => TelemetryExporter.Console,
            "otlp" => TelemetryExporter.Otlp,
            var other => throw new DashboardConfigurationException(section.Path + ":Exporter",
                $"{section.Path}:Exporter must be none (no traces or metrics leave the host), console or otlp (to OTEL_EXPORTER_OTLP_ENDPOINT), but was '{other}'."),
        };
        var prometheus = false;
        if (section["Prometheus"] is { Length: > 0 } prometheusText && !bool.TryParse(prometheusText.Trim(), out prometheus))
            throw new DashboardConfigurationException(section.Path + ":Prometheus",
                $"{section.Path}:Prometheus must be true (GET /metrics serves the metrics for a Prometheus scrape) or false, but was '{prometheusText}'.");
        var requestsPage = true;
        if (section["RequestsPage"] is { Length: > 0 } pageText && !bool.TryParse(pageText.Trim(), out requestsPage))
            throw new DashboardConfigurationException(section.Path + ":RequestsPage",
                $"{section.Path}:RequestsPage must be true (GET /requests shows the recent requests' waterfalls; every request is traced for it) or false, but was '{pageText}'.");
        var serviceName = section["ServiceName"] is { Length: > 0 } name ? name.Trim() : DashboardTelemetrySettings.DefaultServiceName;
        if (exporter == TelemetryExporter.Otlp && configuration[DashboardTelemetrySettings.OtlpEndpointVariable] is { Length: > 0 } endpoint
            && (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            throw new DashboardConfigurationException(DashboardTelemetrySettings.OtlpEndpointVariable,
                $"{DashboardTelemetrySettings.OtlpEndpointVariable} must be an http or https address such as http://127.0.0.1:4317, but was '{endpoint}'.");
        return new DashboardTelemetrySettings(exporter, prometheus, serviceName, requestsPage);
    }

    private static DashboardOrdersPart ReadOrdersPart(IConfigurationSection section)
    {
        RequireKnown(section, "the orders part", "Optional", "Timeout");
        var optional = false;
        if (section["Optional"] is { Length: > 0 } optionalText && !bool.TryParse(optionalText.Trim(), out optional))
            throw new DashboardConfigurationException(section.Path + ":Optional",
                $"{section.Path}:Optional must be true (the dashboard answers without its orders when they fail) or false, but was '{optionalText}'.");
        TimeSpan? timeout = null;
        if (section["Timeout"] is { Length: > 0 } timeoutText)
        {
            if (!TryParseDuration(timeoutText, out var parsed) || parsed <= TimeSpan.Zero)
                throw new DashboardConfigurationException(section.Path + ":Timeout",
                    $"{section.Path}:Timeout must be a positive duration such as 300ms, but was '{timeoutText}'.");
            timeout = parsed;
        }
        return new DashboardOrdersPart(optional, timeout);
    }

    private static DashboardClusterSettings? ReadCluster(IConfigurationSection section)
    {
        RequireKnown(section, "the cluster", "Roles", "Port", "SeedNodes", "InstancesPerNode", "StableAfter");
        if (!section.Exists()) return null;
        string[] roles = section.GetSection("Roles").GetChildren().Select(c => c.Value ?? "").ToArray();
        if (roles.Length == 0 || roles.Any(r => r is not (DashboardClusterSettings.FrontRole or DashboardClusterSettings.WorkerRole)))
            throw new DashboardConfigurationException(section.Path + ":Roles",
                $"{section.Path}:Roles must list front (serves GET /dashboard), worker (runs the aggregators) or both, but was [{string.Join(", ", roles)}].");
        var port = 0;
        if (section["Port"] is { Length: > 0 } portText && (!int.TryParse(portText, CultureInfo.InvariantCulture, out port) || port is < 0 or > 65535))
            throw new DashboardConfigurationException(section.Path + ":Port", $"{section.Path}:Port must be 0 (any free port) to 65535, but was '{portText}'.");
        var seeds = section.GetSection("SeedNodes").GetChildren().Select(c => c.Value ?? "").ToArray();
        foreach (var seed in seeds)
            if (!Akka.Actor.Address.TryParse(seed, out _))
                throw new DashboardConfigurationException(section.Path + ":SeedNodes",
                    $"{section.Path}:SeedNodes must list node addresses such as akka.tcp://dashboard@127.0.0.1:4053, but has '{seed}'.");
        var instances = 2;
        if (section["InstancesPerNode"] is { Length: > 0 } instancesText && (!int.TryParse(instancesText, CultureInfo.InvariantCulture, out instances) || instances < 1))
            throw new DashboardConfigurationException(section.Path + ":InstancesPerNode", $"{section.Path}:InstancesPerNode must be at least 1, but was '{instancesText}'.");
        var stableAfter = TimeSpan.FromSeconds(5);
        if (section["StableAfter"] is { Length: > 0 } stableText && (!TryParseDuration(stableText, out stableAfter) || stableAfter <= TimeSpan.Zero))
            throw new DashboardConfigurationException(section.Path + ":StableAfter", $"{section.Path}:StableAfter must be a positive duration such as 5s, but was '{stableText}'.");
        return new DashboardClusterSettings(roles, port, seeds, instances, stableAfter);
    }

    private static ServiceBehaviour ReadService(IConfigurationSection section, ServiceBehaviour defaults)
    {
        RequireKnown(section, "a service", "Latency", "FailureRate");
        var latency = defaults.Latency;
        if (section["Latency"] is { Length: > 0 } latencyText && (!TryParseDuration(latencyText, out latency) || latency < TimeSpan.Zero))
            throw new DashboardConfigurationException(section.Path + ":Latency",
                $"{section.Path}:Latency must be a non-negative duration such as 00:00:00.200, 200ms or 2s, but was '{latencyText}'.");
        var failureRate = defaults.FailureRate;
        if (section["FailureRate"] is { Length: > 0 } rateText
            && (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out failureRate) || failureRate is < 0 or > 1 || double.IsNaN(failureRate)))
            throw new DashboardConfigurationException(section.Path + ":FailureRate",
                $"{section.Path}:FailureRate must be a number from 0 (never fails) to 1 (always fails), but was '{rateText}'.");
        return new ServiceBehaviour(latency, failureRate);
    }

    private static void RequireKnown(IConfigurationSection section, string what, params string[] known)
    {
        foreach (var child in section.GetChildren())
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                throw new DashboardConfigurationException(child.Path,
                    $"{child.Path} is not a known setting; the settings of {what} are {string.Join(", ", known)}.");
    }

    /// <summary>Each address must be http on an IP address or localhost, and its port free (0 picks a free one).</summary>
    private static void CheckUrls(string urls, string setting)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
                throw new DashboardConfigurationException(setting,
                    $"{setting} must list http addresses such as http://127.0.0.1:5080 (set it with --urls), but has '{url}'.");
            var address = uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _) ? IPAddress.Loopback
                : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip
                : throw new DashboardConfigurationException(setting,
                    $"{setting} must name an IP address or localhost, such as http://127.0.0.1:5080, but has '{url}'.");
            if (uri.Port == 0) continue;
            try
            {
                // Kestrel would fail too, but only after logging a stack trace; a trial bind gives the one-line answer first.
                var probe = new TcpListener(address, uri.Port);
                probe.Start();
                probe.Stop();
            }
            catch (SocketException e)
            {
                throw new DashboardConfigurationException(setting, e.SocketErrorCode == SocketError.AddressAlreadyInUse
                    ? $"{setting}: port {uri.Port} on {address} is already in use ({url}); choose another with --urls http://127.0.0.1:PORT."
                    : $"{setting}: cannot listen on {url}: {e.Message}.");
            }
        }
    }

    /// <summary>A TimeSpan (<c>00:00:00.200</c>) or a number with a unit (<c>200ms</c>, <c>2s</c>). A bare number is refused: TimeSpan reads <c>5</c> as five days.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        text = text.Trim();
        duration = default;
        if (text.EndsWith("ms", StringComparison.Ordinal) && double.TryParse(text[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            duration = TimeSpan.FromMilliseconds(ms);
        else if (text.EndsWith('s') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
            duration = TimeSpan.FromSeconds(s);
        else
            return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
        return true;
    }
}

/// <summary>How the aggregation treats its <c>orders</c> part (<c>Dashboard:Orders</c>).</summary>
/// <param name="Optional">When true, a failing or timed-out orders fetch falls back to <see cref="DashboardAggregator.OrdersFallback"/>
/// instead of failing the request; the profile is still cancelled by nothing but its own failure or the deadline.</param>
/// <param name="Timeout">The orders fetch's own budget inside the request's deadline; null: the request's deadline alone.</param>
public sealed record DashboardOrdersPart(bool Optional, TimeSpan? Timeout);

/// <summary>Where the host sends its traces and metrics (<c>Dashboard:Telemetry:Exporter</c>).</summary>
public enum TelemetryExporter
{
    /// <summary>Nowhere: the host sets up no OpenTelemetry SDK (the default).</summary>
    None,

    /// <summary>Standard output, one block per span and per metric export.</summary>
    Console,

    /// <summary>An OTLP collector at <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (gRPC on localhost:4317 when unset).</summary>
    Otlp,
}

/// <summary>The host's OpenTelemetry SDK (<c>Dashboard:Telemetry</c>).</summary>
/// <param name="Exporter">Where traces and metrics go.</param>
/// <param name="Prometheus">Whether <c>GET /metrics</c> serves the metrics in Prometheus' text format.</param>
/// <param name="ServiceName">The <c>service.name</c> resource attribute.</param>
/// <param name="RequestsPage">Whether <c>GET /requests</c> shows the recent requests (their spans recorded in memory, so
/// every request is traced); the demo records them whatever this says.</param>
public sealed record DashboardTelemetrySettings(TelemetryExporter Exporter, bool Prometheus, string ServiceName, bool RequestsPage = true)
{
    /// <summary>The service name when <c>Dashboard:Telemetry:ServiceName</c> is unset.</summary>
    public const string DefaultServiceName = "actors-dashboard";

    /// <summary>The standard variable the OTLP exporter reads its endpoint from.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether the host traces at all (an exporter other than none).</summary>
    public bool Traces => Exporter != TelemetryExporter.None;

    /// <summary>Whether the host collects metrics (an exporter, or the Prometheus endpoint).</summary>
    public bool Metrics => Exporter != TelemetryExporter.None || Prometheus;
}

/// <summary>The host as a member of an Akka.NET cluster (<c>Dashboard:Cluster</c>).</summary>
/// <param name="Roles"><c>front</c> (serves <c>GET /dashboard/{id}</c> through the cluster front), <c>worker</c> (runs the aggregators), or both.</param>
/// <param name="Port">The Akka.Remote port on 127.0.0.1; 0 for any free one.</param>
/// <param name="SeedNodes">The nodes to join; none: the host joins itself (the first node of a new cluster).</param>
/// <param name="InstancesPerNode">Aggregators per worker.</param>
/// <param name="StableAfter">How long the split-brain resolver (keep-oldest) waits before it downs an unreachable member.</param>
public sealed record DashboardClusterSettings(IReadOnlyList<string> Roles, int Port, IReadOnlyList<string> SeedNodes, int InstancesPerNode, TimeSpan StableAfter)
{
    /// <summary>The role of a member that serves the endpoint.</summary>
    public const string FrontRole = "front";

    /// <summary>The role of a member that runs aggregators.</summary>
    public const string WorkerRole = "worker";
}
