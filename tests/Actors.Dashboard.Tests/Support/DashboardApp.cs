using Actors.Dashboard.Requests;
using Actors.Dashboard.Services;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Dashboard.Tests.Support;

/// <summary>The real dashboard host, in process: real Kestrel on a loopback port chosen at run time, real HttpClient, real services.</summary>
public sealed class DashboardApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public LoopbackServices Services => _app.Services.GetRequiredService<LoopbackServices>();

    /// <summary>The host's recorder of the library's spans, which <c>GET /requests</c> draws.</summary>
    public RequestRecorder Recorder => _app.Services.GetRequiredService<RequestRecorder>();

    /// <summary>Starts the host with <paramref name="args"/> on top of config/appsettings.json; quiet logs unless a test asks.</summary>
    public static Task<DashboardApp> StartAsync(params string[] args) => StartAsync(null, args);

    /// <summary>Starts the host with a spec's own exporters (the in-memory one) in its OpenTelemetry SDK.</summary>
    internal static async Task<DashboardApp> StartAsync(DashboardTelemetryHooks? telemetry, params string[] args)
    {
        var app = DashboardHost.Build(["--urls", "http://127.0.0.1:0", "--Serilog:MinimumLevel:Default=Warning", .. args], DashboardMode.Serve, telemetry);
        await app.StartAsync();
        return new DashboardApp(app, new Uri(app.Urls.Single()));
    }

    public async Task<IActorRef> AggregatorAsync() =>
        await _app.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();

    /// <summary>Sets both services' behaviour for a test.</summary>
    public void Behave(ServiceBehaviour profile, ServiceBehaviour orders)
    {
        Services.Profile.Behaviour = profile;
        Services.Orders.Behaviour = orders;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
