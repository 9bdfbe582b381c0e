using System.Net;
using Actors.Dashboard.Services;
using Actors.Dashboard.Tests.Support;
using Xunit;

namespace Actors.Dashboard.Tests;

/// <summary>
/// <c>Dashboard:Orders:Optional=true</c> over real Kestrel: the dashboard degrades instead of failing when its orders do,
/// names what fell back in <c>X-Aggregation-Fallback</c>, and shows the fallback in the body. Switched off (the default), a
/// failing orders service is a 502, as <see cref="EndpointSpecs"/> shows.
/// </summary>
public sealed class OptionalOrdersSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private static readonly ServiceBehaviour Quick = new(TimeSpan.FromMilliseconds(20), 0);
    private DashboardApp _dashboard = null!;

    // The request's deadline is wide (a cold first request on a busy 2-core machine); the orders part has 1 s of its own.
    public async Task InitializeAsync() => _dashboard = await DashboardApp.StartAsync(
        "--Aggregation:Dashboard:Timeout=10s", "--Dashboard:Orders:Optional=true", "--Dashboard:Orders:Timeout=1s");

    public async Task DisposeAsync() => await _dashboard.DisposeAsync();

    [Fact]
    public async Task Both_services_answering_must_answer_200_without_a_fallback_header()
    {
        _dashboard.Behave(Quick, Quick);

        using var response = await _dashboard.Http.GetAsync("/dashboard/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Name: Alice | Order: 5", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains(DashboardEndpoint.FallbackHeader));
    }

    [Fact]
    public async Task A_failing_orders_service_must_answer_200_with_the_fallback_and_keep_the_profile_request()
    {
        _dashboard.Behave(Quick with { Latency = TimeSpan.FromMilliseconds(300) }, Quick with { FailureRate = 1 });

        using var response = await _dashboard.Http.GetAsync("/dashboard/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["orders"], response.Headers.GetValues(DashboardEndpoint.FallbackHeader));
        // The orders failure cancelled nothing: the profile, slower than it, answered in full.
        Assert.Equal("Name: Alice | " + DashboardAggregator.OrdersFallback, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Orders_slower_than_their_own_budget_must_fall_back_and_abort_the_orders_request()
    {
        var ordersAborted = _dashboard.Services.Orders.WhenAborted(2);
        _dashboard.Behave(Quick, Quick with { Latency = TimeSpan.FromSeconds(30) });

        using var response = await _dashboard.Http.GetAsync("/dashboard/2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["orders"], response.Headers.GetValues(DashboardEndpoint.FallbackHeader));
        Assert.EndsWith(" | " + DashboardAggregator.OrdersFallback, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Its own budget of 1 s ended the call on the socket, long before the request's 10 s deadline and the service's 30 s.
        var abort = await ordersAborted.WaitAsync(Generous);
        Assert.InRange(abort.AfterMs, 500, 9_000);
    }

    [Fact]
    public async Task A_failing_profile_must_still_fail_the_request_with_502()
    {
        _dashboard.Behave(Quick with { FailureRate = 1 }, Quick);

        using var response = await _dashboard.Http.GetAsync("/dashboard/3");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("\"failedFetcher\":\"profile\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
