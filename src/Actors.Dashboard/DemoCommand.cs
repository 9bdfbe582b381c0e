using System.Diagnostics;
using Actors.Aggregation;
using Actors.Dashboard.Requests;
using Actors.Dashboard.Services;
using Akka.Actor;
using Akka.Hosting;

namespace Actors.Dashboard;

/// <summary>
/// The kata's three cases, run once against the host's real loopback services through the registered aggregator:
/// both answer; one fails (fail fast, the sibling's request aborted); the profile is slower than the timeout.
/// Each outcome is printed with its elapsed time and checked: an unexpected outcome makes the exit code 1. Then the case's
/// waterfall, drawn from the library's spans that the <see cref="RequestRecorder"/> kept (<see cref="TextWaterfall"/>).
/// </summary>
internal static class DemoCommand
{
    /// <summary>The kata's combined result for id 1.</summary>
    public const string Expected = "Name: Alice | Order: 5";

    private static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(5);

    private sealed record DemoCase(string Title, ServiceBehaviour Profile, ServiceBehaviour Orders, Func<AggregationFailure?, string?, bool> Expect,
        DownstreamService? Aborted);

    public static async Task<int> RunAsync(WebApplication app, TextWriter output)
    {
        var services = app.Services.GetRequiredService<LoopbackServices>();
        var settings = app.Services.GetRequiredService<DashboardSettings>();
        var timeout = settings.Aggregator.Timeout ?? AggregationSettings.Create(app.Services.GetRequiredService<ActorSystem>()).DefaultTimeout;
        var aggregator = await app.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();
        var recorder = app.Services.GetRequiredService<RequestRecorder>();
        var profile = services.Profile.Behaviour;
        var orders = services.Orders.Behaviour;

        DemoCase[] cases =
        [
            new("both services answer", profile, orders, (failure, text) => failure is null && text == Expected, null),
            new("the orders service fails", profile with { Latency = Max(profile.Latency, timeout * 0.75) }, orders with { FailureRate = 1 },
                (failure, _) => failure is FetcherFailed { Fetcher: "orders" }, services.Profile),
            new("the profile is slower than the timeout", profile with { Latency = timeout * 2 }, orders,
                (failure, _) => failure is DeadlineExceeded { Pending: ["profile"] }, services.Profile),
        ];

        output.WriteLine($"Dashboard demo: the kata's three cases for id 1, against the profile and orders services at {app.Services.GetRequiredService<DownstreamClient>().BaseAddress}");
        output.WriteLine($"timeout {Ms(timeout)}; profile answers after {Ms(profile.Latency)}, orders after {Ms(orders.Latency)}, unless a case says otherwise");
        // One untimed request first, so the times below are the cases', not the first HTTP call's start-up cost.
        try
        {
            await aggregator.AggregateAsync<int, string>(1);
        }
        catch (AggregationFailedException)
        {
            // The cases report what matters.
        }
        output.WriteLine("(after one untimed warm-up request)");

        var asExpected = 0;
        for (var i = 0; i < cases.Length; i++)
            if (await RunCaseAsync(i + 1, cases[i], services, aggregator, recorder, output)) asExpected++;

        services.Profile.Behaviour = profile;
        services.Orders.Behaviour = orders;
        output.WriteLine(asExpected == cases.Length
            ? $"All {cases.Length} cases behaved as expected."
            : $"UNEXPECTED: {cases.Length - asExpected} of {cases.Length} cases did not behave as expected.");
        return asExpected == cases.Length ? 0 : 1;
    }

    private static async Task<bool> RunCaseAsync(int number, DemoCase demoCase, LoopbackServices services, IActorRef aggregator,
        RequestRecorder recorder, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{number}. {demoCase.Title} (profile {Describe(demoCase.Profile)}, orders {Describe(demoCase.Orders)})");
        services.Profile.Behaviour = demoCase.Profile;
        services.Orders.Behaviour = demoCase.Orders;
        var aborted = demoCase.Aborted?.WhenAborted(1);
        var before = recorder.RequestsStarted;

        var started = Stopwatch.GetTimestamp();
        AggregationFailure? failure = null;
        string? text = null;
        try
        {
            text = await aggregator.AggregateAsync<int, string>(1);
        }
        catch (AggregationFailedException e)
        {
            failure = e.Reason;
        }
        var replied = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(started, replied);
        output.WriteLine(failure is null
            ? $"   -> {text}  ({elapsed.TotalMilliseconds:0} ms)"
            : $"   -> {failure.GetType().Name}: {failure.Describe()}  ({elapsed.TotalMilliseconds:0} ms)");

        var ok = demoCase.Expect(failure, text);
        if (aborted is not null)
        {
            try
            {
                var abort = await aborted.WaitAsync(AbortWait);
                var afterReply = Stopwatch.GetElapsedTime(replied, abort.AbortedAt).TotalMilliseconds;
                output.WriteLine($"   -> the {abort.Service} service saw its request aborted {abort.AfterMs:0} ms into it"
                    + (afterReply >= 0 ? $", {afterReply:0} ms after the reply" : ", before the reply went out"));
            }
            catch (TimeoutException)
            {
                output.WriteLine($"   -> the {demoCase.Aborted!.Name} service did not see its request aborted within {Ms(AbortWait)}");
                ok = false;
            }
        }
        await PrintWaterfallAsync(recorder, before, output);
        if (!ok) output.WriteLine("   UNEXPECTED outcome for this case");
        return ok;
    }

    /// <summary>The waterfall of the case's request (the first to start after <paramref name="before"/>), once all its fetches stopped.</summary>
    private static async Task PrintWaterfallAsync(RequestRecorder recorder, long before, TextWriter output)
    {
        var trace = await recorder.WaitForSettledAsync(t => t.Number == before + 1, AbortWait);
        if (trace is null)
        {
            output.WriteLine($"   (no trace of this request settled within {Ms(AbortWait)})");
            return;
        }
        foreach (var waterfall in Waterfall.Of(trace))
            foreach (var line in TextWaterfall.Render(waterfall, "   "))
                output.WriteLine(line);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0} ms";

    private static string Describe(ServiceBehaviour b) =>
        b.FailureRate >= 1 ? $"fails after {Ms(b.Latency)}" : b.FailureRate > 0 ? $"{Ms(b.Latency)}, fails {b.FailureRate:P0}" : Ms(b.Latency);
}
