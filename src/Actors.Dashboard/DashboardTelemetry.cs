using Actors.Aggregation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Actors.Dashboard;

/// <summary>
/// The host's OpenTelemetry SDK, from <c>Dashboard:Telemetry</c>: the library's spans and metrics
/// (<see cref="AggregationTelemetry.ActivitySourceName"/>, <see cref="AggregationTelemetry.MeterName"/>) with ASP.NET Core's and
/// HttpClient's, so that one trace runs from <c>GET /dashboard/{id}</c> through the aggregation and each fetch to the outgoing
/// call and the downstream service's own server span. With the exporter <c>none</c> and no Prometheus endpoint, nothing is set
/// up and the library's telemetry costs nothing.
/// </summary>
internal static class DashboardTelemetry
{
    /// <summary>Where Prometheus scrapes, when <c>Dashboard:Telemetry:Prometheus</c> is true.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Adds the SDK to the host's services, as configured (and, for the specs, with their own exporters).</summary>
    public static void Add(IServiceCollection services, DashboardTelemetrySettings settings, DashboardTelemetryHooks? hooks)
    {
        var traces = settings.Traces || hooks?.Tracing is not null;
        var metrics = settings.Metrics || hooks?.Metrics is not null;
        if (!traces && !metrics) return;

        var otel = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(settings.ServiceName));
        if (traces)
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(AggregationTelemetry.ActivitySourceName)
                    // A scrape is not a request anyone wants to see traced.
                    .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation();
                switch (settings.Exporter)
                {
                    case TelemetryExporter.Console: tracing.AddConsoleExporter(); break;
                    case TelemetryExporter.Otlp: tracing.AddOtlpExporter(); break;
                }
                hooks?.Tracing?.Invoke(tracing);
            });
        if (metrics)
            otel.WithMetrics(meters =>
            {
                meters.AddMeter(AggregationTelemetry.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                switch (settings.Exporter)
                {
                    case TelemetryExporter.Console: meters.AddConsoleExporter(); break;
                    case TelemetryExporter.Otlp: meters.AddOtlpExporter(); break;
                }
                if (settings.Prometheus) meters.AddPrometheusExporter();
                hooks?.Metrics?.Invoke(meters);
            });
    }

    /// <summary>Maps <see cref="MetricsPath"/> when the Prometheus endpoint is on.</summary>
    public static void Map(WebApplication app, DashboardTelemetrySettings settings)
    {
        if (settings.Prometheus) app.MapPrometheusScrapingEndpoint(MetricsPath);
    }
}

/// <summary>Exporters a spec adds to the host's SDK (the in-memory exporter), whatever <c>Dashboard:Telemetry</c> says.</summary>
/// <param name="Tracing">Added to the tracer provider, which then exists even with the exporter <c>none</c>.</param>
/// <param name="Metrics">Added to the meter provider, likewise.</param>
internal sealed record DashboardTelemetryHooks(Action<TracerProviderBuilder>? Tracing = null, Action<MeterProviderBuilder>? Metrics = null);
