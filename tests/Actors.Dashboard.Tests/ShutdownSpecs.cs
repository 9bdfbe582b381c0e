using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Actors.Dashboard.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Dashboard.Tests;

/// <summary>
/// Stopping <c>serve</c> (SIGTERM, as Ctrl+C or a service manager does) while a request is in flight answers it 503
/// AggregationCancelled, and the profile service logs that its call was aborted.
/// </summary>
public sealed partial class ShutdownSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Stopping_serve_must_answer_a_request_in_flight_503_AggregationCancelled()
    {
        using var process = DashboardProcess.Start("serve", "--urls", "http://127.0.0.1:0",
            "--Aggregation:Dashboard:Timeout=30s", "--Dashboard:Services:Profile:Latency=30s",
            "--Serilog:MinimumLevel:Override:Actors.Dashboard.Services=Debug"); // to see the profile service receive the call
        var serving = await process.WaitForLineAsync(Serving(), TimeSpan.FromSeconds(60));
        using var http = new HttpClient { Timeout = Generous };
        var call = http.GetAsync(serving.Groups["url"].Value.Replace("{id}", "1", StringComparison.Ordinal));
        await process.WaitForLineAsync(ProfileReceived(), Generous); // the request is at the profile service, which answers in 30 s

        process.Terminate();

        using var response = await call.WaitAsync(Generous);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(0, await process.WaitForExitAsync(Generous));
        output.WriteLine(process.Stdout);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal("AggregationCancelled", problem.GetProperty("cause").GetString());
        Assert.Contains("shutting down", problem.GetProperty("reason").GetString());
        Assert.Matches(@"profile service: request for 1 aborted by the caller", process.Stdout);
    }

    [GeneratedRegex(@"profile service: request for 1 received")]
    private static partial Regex ProfileReceived();

    [GeneratedRegex(@"Dashboard serving GET (?<url>http://127\.0\.0\.1:\d+/dashboard/\{id\})")]
    private static partial Regex Serving();
}
