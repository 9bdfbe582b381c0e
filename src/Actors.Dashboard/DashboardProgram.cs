using Actors.Aggregation.Hosting;
using Actors.Dashboard.Services;
using Microsoft.AspNetCore.Connections;

namespace Actors.Dashboard;

/// <summary>The command line: <c>demo</c> or <c>serve</c>, then configuration arguments. Bad configuration ends in one line and exit code 2.</summary>
public static class DashboardProgram
{
    /// <summary>Exit code: the command did what it should.</summary>
    public const int Success = 0;

    /// <summary>Exit code: the demo saw an outcome it did not expect.</summary>
    public const int Unexpected = 1;

    /// <summary>Exit code: unknown command or bad configuration; a one-line error went to standard error.</summary>
    public const int BadConfiguration = 2;

    private const string Usage = """
        usage: Actors.Dashboard <command> [configuration arguments]
          demo    run the kata's three cases against the loopback services, print each outcome, exit
          serve   serve GET /dashboard/{id} on Urls (config/appsettings.json) or --urls http://127.0.0.1:PORT until stopped
                  (as a cluster member with --Dashboard:Cluster:Roles:0=front|worker, see the README)
          cluster-demo  this process as the cluster's front, two workers as child processes, one killed mid-request
        configuration arguments override config/appsettings.json, e.g. --Aggregation:Dashboard:Timeout=2s
        """;

    /// <summary>Runs the command in <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        DashboardMode mode;
        var clusterDemo = false;
        switch (args.FirstOrDefault())
        {
            case "demo": mode = DashboardMode.Demo; break;
            case "cluster-demo":
                mode = DashboardMode.Demo;
                clusterDemo = true;
                args = [.. args, .. ClusterDemoCommand.FrontArguments];
                break;
            case "serve": mode = DashboardMode.Serve; break;
            case "help" or "--help" or "-h":
                output.WriteLine(Usage);
                return Success;
            case var other:
                error.WriteLine(other is null ? "error: no command given." : $"error: unknown command '{other}'.");
                error.WriteLine(Usage);
                return BadConfiguration;
        }

        WebApplication app;
        try
        {
            app = DashboardHost.Build(args[1..], mode);
        }
        catch (Exception e) when (IsConfigurationError(e))
        {
            error.WriteLine($"error: {OneLine(e)}");
            return BadConfiguration;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync();
            }
            catch (IOException e) when (e.InnerException is AddressInUseException)
            {
                // Taken between the trial bind and Kestrel's: same answer as the trial bind's.
                error.WriteLine($"error: Urls: {OneLine(e)}");
                return BadConfiguration;
            }

            if (mode == DashboardMode.Demo)
            {
                try
                {
                    return clusterDemo ? await ClusterDemoCommand.RunAsync(app, output) : await DemoCommand.RunAsync(app, output);
                }
                finally
                {
                    await app.StopAsync();
                }
            }

            var address = app.Services.GetRequiredService<DownstreamClient>().BaseAddress;
            app.Logger.LogInformation("Dashboard serving GET {Dashboard}; profile and orders services under {Services}; Ctrl+C stops",
                new Uri(address, "/dashboard/{id}").ToString().Replace("%7B", "{", StringComparison.Ordinal).Replace("%7D", "}", StringComparison.Ordinal), address.ToString());
            await app.WaitForShutdownAsync();
            return Success;
        }
    }

    private static bool IsConfigurationError(Exception e) =>
        e is DashboardConfigurationException or AggregationConfigurationException or InvalidDataException or FormatException or FileNotFoundException;

    private static string OneLine(Exception e)
    {
        var message = e.InnerException is { } inner && e is InvalidDataException ? $"{e.Message} {inner.Message}" : e.Message;
        return message.ReplaceLineEndings(" ");
    }
}
