using System.Net;
using System.Text.Json;
using Actors.Dashboard.Services;
using Actors.Dashboard.Tests.Support;
using Xunit;

namespace Actors.Dashboard.Tests;

/// <summary>GET /dashboard/{id} end to end over real Kestrel on a loopback port chosen at run time: status codes and ProblemDetails bodies.</summary>
public sealed class EndpointSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private static readonly ServiceBehaviour Quick = new(TimeSpan.FromMilliseconds(20), 0);
    private DashboardApp _dashboard = null!;

    // 3 s: wide enough for a cold first request on a busy 2-core machine; the 504 case waits for it once.
    public async Task InitializeAsync() => _dashboard = await DashboardApp.StartAsync("--Aggregation:Dashboard:Timeout=3s");

    public async Task DisposeAsync() => await _dashboard.DisposeAsync();

    [Fact]
    public async Task A_request_must_answer_200_with_the_combined_text()
    {
        _dashboard.Behave(Quick, Quick);

        using var response = await _dashboard.Http.GetAsync("/dashboard/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Name: Alice | Order: 5", await response.Content.ReadAsStringAsync());
        Assert.StartsWith("http://127.0.0.1:", _dashboard.Address.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_service_must_answer_502_naming_the_failed_fetcher_and_abort_the_sibling_request()
    {
        _dashboard.Behave(Quick with { Latency = TimeSpan.FromSeconds(30) }, Quick with { FailureRate = 1 });
        var profileAborted = _dashboard.Services.Profile.WhenAborted(1);

        using var response = await _dashboard.Http.GetAsync("/dashboard/1");

        var problem = await ProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Equal("FetcherFailed", problem.GetProperty("cause").GetString());
        Assert.Equal("orders", problem.GetProperty("failedFetcher").GetString());
        Assert.Contains("orders service answered 500", problem.GetProperty("detail").GetString());
        // The profile request was cut on the socket: the server saw it go long before its 30 s latency.
        var abort = await profileAborted.WaitAsync(Generous);
        Assert.Equal("profile", abort.Service);
        Assert.True(abort.AfterMs < 30_000);
    }

    [Fact]
    public async Task A_service_slower_than_the_timeout_must_answer_504_naming_the_pending_fetcher()
    {
        _dashboard.Behave(Quick with { Latency = TimeSpan.FromSeconds(30) }, Quick);
        var profileAborted = _dashboard.Services.Profile.WhenAborted(2);

        using var response = await _dashboard.Http.GetAsync("/dashboard/2");

        var problem = await ProblemAsync(response, HttpStatusCode.GatewayTimeout);
        Assert.Equal("DeadlineExceeded", problem.GetProperty("cause").GetString());
        Assert.Equal(["profile"], problem.GetProperty("pendingFetchers").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3000, problem.GetProperty("timeoutMs").GetDouble());
        Assert.True(problem.GetProperty("elapsedMs").GetDouble() >= 3000);
        Assert.Equal("profile", (await profileAborted.WaitAsync(Generous)).Service);
    }

    [Fact]
    public async Task An_unknown_id_must_answer_502_with_the_service_answer()
    {
        _dashboard.Behave(Quick, Quick);

        using var response = await _dashboard.Http.GetAsync("/dashboard/42");

        var problem = await ProblemAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("no record 42", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_client_that_goes_away_must_cancel_the_aggregation_down_to_the_services_sockets()
    {
        _dashboard.Behave(Quick with { Latency = TimeSpan.FromSeconds(30) }, Quick);
        var profileRequested = _dashboard.Services.Profile.WhenRequested(3);
        var profileAborted = _dashboard.Services.Profile.WhenAborted(3);
        using var client = new CancellationTokenSource();

        var call = _dashboard.Http.GetAsync("/dashboard/3", client.Token);
        await profileRequested.WaitAsync(Generous);
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // Two hops: the dashboard saw its client go, cancelled the aggregation, and the profile service saw its own caller go.
        var abort = await profileAborted.WaitAsync(Generous);
        Assert.True(abort.AfterMs < 30_000);
    }

    [Fact]
    public async Task A_request_over_MaxInFlight_must_answer_503_RequestRejected()
    {
        await using var dashboard = await DashboardApp.StartAsync("--Aggregation:Dashboard:MaxInFlight=1", "--Aggregation:Dashboard:Timeout=30s");
        dashboard.Behave(Quick with { Latency = TimeSpan.FromSeconds(30) }, Quick);
        using var first = new CancellationTokenSource();
        var profileRequested = dashboard.Services.Profile.WhenRequested(1);
        var running = dashboard.Http.GetAsync("/dashboard/1", first.Token);
        await profileRequested.WaitAsync(Generous); // so request 1 is in flight

        using var response = await dashboard.Http.GetAsync("/dashboard/2");

        var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("RequestRejected", problem.GetProperty("cause").GetString());
        Assert.Equal("busy", problem.GetProperty("reason").GetString());
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.StartsWith("/dashboard/", problem.GetProperty("instance").GetString(), StringComparison.Ordinal);
        return problem;
    }
}
