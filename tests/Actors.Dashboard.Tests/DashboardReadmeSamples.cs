using Actors.Dashboard;
using Xunit;

// Outside namespace Actors, like every README sample: the code reads as it does in a user's project.
namespace ReadmeSamples;

/// <summary>The example of src/Actors.Dashboard/README.md, compiled and run: the host in process, on a free port.</summary>
public sealed class DashboardReadmeSamples
{
    private static async Task<string> InProcess()
    {
        // snippet:begin dashboard-in-process
        // Port 0: any free port. The timeout is raised from the shipped 1 s: a process's first request pays for JIT.
        await using var app = DashboardHost.Build(
            ["--urls", "http://127.0.0.1:0", "--Aggregation:Dashboard:Timeout=00:00:10"], DashboardMode.Serve);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        string text = await http.GetStringAsync("/dashboard/1"); // Name: Alice | Order: 5

        await app.StopAsync();
        // snippet:end
        return text;
    }

    [Fact]
    public async Task The_host_must_serve_the_dashboard_in_process() =>
        Assert.Equal("Name: Alice | Order: 5", await InProcess());
}
