using Actors.Dashboard;
using Actors.Dashboard.Services;

// plain   [configuration arguments]: a minimal API host (no Serilog, no Akka): the dashboard's loopback services and
//         GET /dashboard/{id} as Task.WhenAll over the same DownstreamClient calls.
// in-host [configuration arguments]: the dashboard host itself (DashboardHost.Build, Akka, Serilog, its GET /dashboard/{id}
//         through the aggregator), plus GET /direct/{id}: the same Task.WhenAll inside it, to isolate the library's cost.
// Configuration arguments as for the dashboard, e.g. --urls http://127.0.0.1:5090 --Dashboard:Services:Profile:Latency=0s
var mode = args.FirstOrDefault();
if (mode is not ("plain" or "in-host"))
{
    Console.Error.WriteLine("usage: Actors.Dashboard.PlainHost plain|in-host [configuration arguments, as for Actors.Dashboard serve]");
    return 2;
}

WebApplication app;
if (mode == "plain")
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args[1..], ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.Sources.Clear();
    builder.Configuration
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json"), optional: false, reloadOnChange: false)
        .AddCommandLine(args[1..]);
    var settings = DashboardSettings.Read(builder.Configuration);
    builder.WebHost.UseUrls(settings.Urls);
    builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSingleton(settings);
    builder.Services.AddHttpClient(DownstreamClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
    builder.Services.AddSingleton<LoopbackServices>();
    builder.Services.AddSingleton<DownstreamClient>();
    app = builder.Build();
    app.Services.GetRequiredService<LoopbackServices>().Map(app);
    app.MapGet("/dashboard/{id:int}", WhenAllEndpoint.HandleAsync);
}
else
{
    app = DashboardHost.Build(args[1..], DashboardMode.Serve);
    app.MapGet("/direct/{id:int}", WhenAllEndpoint.HandleAsync);
}

await using (app)
{
    await app.StartAsync();
    Console.WriteLine($"{mode} listening on {string.Join(" ", app.Urls)}");
    await app.WaitForShutdownAsync();
}
return 0;

/// <summary>
/// What a careful ASP.NET Core developer writes without actors: a linked <see cref="CancellationTokenSource"/> (the client's
/// disconnect), <c>CancelAfter</c> with the dashboard's timeout, the first failure cancels the other call (fail fast),
/// <see cref="Task.WhenAll{TResult}(Task{TResult}[])"/>, and the parts joined as the aggregation joins them.
/// </summary>
internal static class WhenAllEndpoint
{
    private static readonly string[] Names = [.. DashboardAggregator.Fetchers];

    public static async Task<IResult> HandleAsync(int id, HttpContext context, DownstreamClient client, DashboardSettings settings)
    {
        var timeout = settings.Aggregator.Timeout ?? TimeSpan.FromSeconds(1);
        using var group = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        group.CancelAfter(timeout);
        var calls = new Task<string>[Names.Length];
        for (var i = 0; i < Names.Length; i++) calls[i] = FailFast(client.GetAsync(Names[i], id, group.Token), group);
        try
        {
            return Results.Text(string.Join(" | ", await Task.WhenAll(calls)));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (OperationCanceledException)
        {
            return Results.Problem($"deadline of {timeout.TotalMilliseconds:0} ms exceeded", statusCode: StatusCodes.Status504GatewayTimeout);
        }
        catch (Exception e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status502BadGateway);
        }
    }

    private static async Task<string> FailFast(Task<string> call, CancellationTokenSource group)
    {
        try
        {
            return await call;
        }
        catch
        {
            await group.CancelAsync();
            throw;
        }
    }
}
