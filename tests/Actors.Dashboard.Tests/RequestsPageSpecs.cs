using System.Globalization;
using Actors.Aggregation;
using Actors.Dashboard.Services;
using Actors.Dashboard.Tests.Support;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Dashboard.Tests;

/// <summary>
/// <c>GET /requests</c> in a real browser: the host in process on a loopback port, the kata's three cases run through its
/// aggregator as the demo runs them, then headless Chromium loads the page; the specs read the DOM it built.
/// </summary>
public sealed class RequestsPageSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private DashboardApp _dashboard = null!;

    // The shipped configuration: a 1 s deadline, profile 200 ms, orders 100 ms.
    public async Task InitializeAsync() => _dashboard = await DashboardApp.StartAsync();

    public async Task DisposeAsync() => await _dashboard.DisposeAsync();

    [Fact]
    public async Task The_page_must_draw_the_three_kata_cases_newest_first_with_the_failing_fetch_and_the_siblings_token_marked()
    {
        var aggregator = await _dashboard.AggregatorAsync();
        var (profile, orders) = (_dashboard.Services.Profile.Behaviour, _dashboard.Services.Orders.Behaviour);
        // As the demo does: one warm-up request first, so that the cases' times are theirs and not the first call's start-up.
        var warmUp = await aggregator.AggregateReplyAsync(1);
        var success = await CaseAsync(profile, orders);
        var failing = await CaseAsync(profile with { Latency = TimeSpan.FromMilliseconds(750) }, orders with { FailureRate = 1 });
        var deadline = await CaseAsync(profile with { Latency = TimeSpan.FromSeconds(2) }, orders);
        Assert.Equal(DemoCommand.Expected, Assert.IsType<AggregateSucceeded<string>>(success).Result);
        Assert.IsType<FetcherFailed>(Assert.IsType<AggregateFailed>(failing).Reason);
        Assert.IsType<DeadlineExceeded>(Assert.IsType<AggregateFailed>(deadline).Reason);
        var page = new Uri(_dashboard.Address, "/requests");
        // The cancelled siblings' spans end when their fetch really stopped, after the reply: wait until the page has them.
        await UntilAsync(async () =>
        {
            var html = await _dashboard.Http.GetStringAsync(page);
            return Count(html, "data-fetcher=") >= 8 && !html.Contains("still running", StringComparison.Ordinal);
        });

        var dom = await HeadlessChromium.DumpDomAsync(page);
        output.WriteLine(dom);
        var document = await new HtmlParser().ParseDocumentAsync(dom);

        // Four requests, the newest first: the three cases after the warm-up.
        var requests = document.QuerySelectorAll("section[data-request-id]");
        Assert.Equal([deadline.RequestId, failing.RequestId, success.RequestId, warmUp.RequestId], requests.Select(r => r.GetAttribute("data-request-id")));
        Assert.All(requests, r => Assert.Equal("1", r.GetAttribute("data-key")));
        Assert.All(requests, r => Assert.NotNull(r.QuerySelector(".reply")));

        var ok = requests[2];
        Assert.Equal("success", ok.GetAttribute("data-outcome"));
        Assert.Equal(["orders", "profile"], Fetches(ok).Select(f => f.GetAttribute("data-fetcher")).Order());
        Assert.All(Fetches(ok), f => Assert.Equal("success", f.GetAttribute("data-outcome")));
        Assert.Empty(ok.QuerySelectorAll(".failed, .token-fired"));

        var failed = requests[1];
        Assert.Equal("fetcher_failed", failed.GetAttribute("data-outcome"));
        Assert.Contains("fetcher 'orders' failed", failed.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        var ordersBar = Single(failed, "orders");
        Assert.Contains("failed", ordersBar.ClassList);
        Assert.Equal("failure", ordersBar.GetAttribute("data-outcome"));
        var profileBar = Single(failed, "profile");
        Assert.DoesNotContain("failed", profileBar.ClassList);
        Assert.Equal("cancelled", profileBar.GetAttribute("data-outcome"));
        Assert.NotNull(profileBar.QuerySelector(".token-fired"));
        Assert.NotNull(profileBar.ParentElement!.QuerySelector(".stopped"));
        Assert.Contains("sibling_failed (orders)", profileBar.ParentElement!.ParentElement!.TextContent, StringComparison.Ordinal);
        // Fail fast: the reply, and the sibling's token, came long before the slow profile's 750 ms.
        Assert.InRange(ReplyMs(failed), 0, 749);

        var late = requests[0];
        Assert.Equal("deadline_exceeded", late.GetAttribute("data-outcome"));
        Assert.Contains("deadline of 1000 ms exceeded; pending: profile", late.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        Assert.InRange(ReplyMs(late), 1000, 1999);
        var slowProfile = Single(late, "profile");
        Assert.Equal("cancelled", slowProfile.GetAttribute("data-outcome"));
        Assert.NotNull(slowProfile.QuerySelector(".token-fired"));
        Assert.Contains("deadline_exceeded", slowProfile.ParentElement!.ParentElement!.TextContent, StringComparison.Ordinal);
        Assert.Equal("success", Single(late, "orders").GetAttribute("data-outcome"));
        Assert.Empty(late.QuerySelectorAll(".bar.fetch.failed"));

        // A picture of it, as the README shows it (src/Actors.Dashboard/docs/requests.png is one of these).
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "requests.png");
        await HeadlessChromium.ScreenshotAsync(page, screenshot);
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 10_000, $"a {png.Length}-byte screenshot");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        output.WriteLine($"screenshot: {screenshot}");
    }

    private async Task<IAggregateReply> CaseAsync(ServiceBehaviour profile, ServiceBehaviour orders)
    {
        _dashboard.Behave(profile, orders);
        return await (await _dashboard.AggregatorAsync()).AggregateReplyAsync(1);
    }

    private static IHtmlCollection<IElement> Fetches(IElement request) => request.QuerySelectorAll(".bar.fetch[data-fetcher]");

    private static IElement Single(IElement request, string fetcher) =>
        Assert.Single(Fetches(request), f => f.GetAttribute("data-fetcher") == fetcher);

    private static double ReplyMs(IElement request) =>
        double.Parse(request.QuerySelector(".reply-ms")!.TextContent.Replace(" ms", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(Generous);
        while (!await condition())
            await Task.Delay(50, timeout.Token);
    }
}
