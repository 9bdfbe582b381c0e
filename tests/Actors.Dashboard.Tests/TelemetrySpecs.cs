using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Actors.Dashboard.Services;
using Actors.Dashboard.Tests.Support;
using OpenTelemetry.Trace;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Dashboard.Tests;

/// <summary>
/// The host's OpenTelemetry SDK over real Kestrel and HttpClient: one trace from <c>GET /dashboard/1</c> to each downstream
/// service's server span, the ids that tie an answer to its trace and its log lines, the Prometheus endpoint and the
/// console exporter.
/// </summary>
public sealed class TelemetrySpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private static readonly ServiceBehaviour Quick = new(TimeSpan.FromMilliseconds(20), 0);

    [Fact]
    public async Task One_trace_must_run_from_the_dashboard_request_through_the_aggregation_and_each_fetch_to_the_downstream_server_spans()
    {
        var spans = new InMemorySpans();
        await using var dashboard = await DashboardApp.StartAsync(spans.Hooks, "--Aggregation:Dashboard:Timeout=5s");
        dashboard.Behave(Quick, Quick);

        using var response = await dashboard.Http.GetAsync("/dashboard/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var trace = ActivityTraceId.CreateFromString(Assert.Single(response.Headers.GetValues("X-Trace-Id")));
        var server = await spans.AwaitAsync(trace, s => s.Kind == ActivityKind.Server && s.DisplayName == "GET /dashboard/{id:int}");
        var request = await spans.AwaitAsync(trace, s => s.OperationName == "aggregate dashboard-aggregator");
        Assert.Equal(server.SpanId, request.ParentSpanId);
        Assert.Equal(Assert.Single(response.Headers.GetValues("X-Request-Id")), request.GetTagItem("aggregation.request.id"));
        foreach (var part in new[] { "profile", "orders" })
        {
            var fetch = await spans.AwaitAsync(trace, s => s.OperationName == $"fetch {part}");
            Assert.Equal(request.SpanId, fetch.ParentSpanId);
            var call = await spans.AwaitAsync(trace, s => s.Kind == ActivityKind.Client && s.ParentSpanId == fetch.SpanId);
            Assert.EndsWith($"/services/{part}/1", call.GetTagItem("url.full")?.ToString(), StringComparison.Ordinal);
            var downstream = await spans.AwaitAsync(trace, s => s.Kind == ActivityKind.Server && s.DisplayName == $"GET /services/{part}/{{id:int}}");
            Assert.Equal(call.SpanId, downstream.ParentSpanId);
        }
    }

    [Fact]
    public async Task A_failures_ProblemDetails_must_carry_the_request_id_and_the_trace_id_of_its_headers_and_its_spans()
    {
        var spans = new InMemorySpans();
        await using var dashboard = await DashboardApp.StartAsync(spans.Hooks, "--Aggregation:Dashboard:Timeout=5s");
        dashboard.Behave(Quick with { Latency = TimeSpan.FromSeconds(30) }, Quick with { FailureRate = 1 });

        using var response = await dashboard.Http.GetAsync("/dashboard/1");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var traceId = problem.GetProperty("traceId").GetString()!;
        var requestId = problem.GetProperty("requestId").GetString()!;
        Assert.Equal(traceId, Assert.Single(response.Headers.GetValues("X-Trace-Id")));
        Assert.Equal(requestId, Assert.Single(response.Headers.GetValues("X-Request-Id")));
        var trace = ActivityTraceId.CreateFromString(traceId);
        var request = await spans.AwaitAsync(trace, s => s.OperationName == "aggregate dashboard-aggregator");
        Assert.Equal(requestId, request.GetTagItem("aggregation.request.id"));
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        var orders = await spans.AwaitAsync(trace, s => s.OperationName == "fetch orders");
        Assert.Equal(ActivityStatusCode.Error, orders.Status);
        var profile = await spans.AwaitAsync(trace, s => s.OperationName == "fetch profile");
        Assert.Equal(("sibling_failed", "orders"), (profile.GetTagItem("aggregation.cancellation.cause"), profile.GetTagItem("aggregation.cancellation.fetcher")));
    }

    [Fact]
    public async Task The_Prometheus_endpoint_must_serve_the_librarys_metrics_when_on_and_be_absent_by_default()
    {
        await using (var off = await DashboardApp.StartAsync())
        {
            off.Behave(Quick, Quick);
            Assert.Equal(HttpStatusCode.OK, (await off.Http.GetAsync("/dashboard/1")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await off.Http.GetAsync("/metrics")).StatusCode);
        }

        await using var on = await DashboardApp.StartAsync("--Dashboard:Telemetry:Prometheus=true");
        on.Behave(Quick, Quick);
        Assert.Equal(HttpStatusCode.OK, (await on.Http.GetAsync("/dashboard/1")).StatusCode);
        var deadline = Stopwatch.StartNew();
        string scrape;
        // The exporter caches a scrape briefly: poll until the request is in it.
        do scrape = await on.Http.GetStringAsync("/metrics");
        while (!scrape.Contains("aggregation_request_duration_seconds_count", StringComparison.Ordinal) && deadline.Elapsed < Generous && await Pause());
        output.WriteLine(scrape);
        Assert.Matches(@"aggregation_request_duration_seconds_count\{[^}]*aggregation_aggregator=""dashboard-aggregator""[^}]*\} 1", scrape);
        Assert.Matches(@"aggregation_fetch_duration_seconds_count\{[^}]*aggregation_fetcher=""profile""[^}]*\} 1", scrape);
    }

    [Fact]
    public async Task With_the_console_exporter_the_log_lines_of_a_request_must_carry_its_trace_id_across_the_HTTP_hop()
    {
        using var process = DashboardProcess.Start("serve", "--urls", "http://127.0.0.1:0", "--Aggregation:Dashboard:Timeout=00:00:10",
            "--Dashboard:Telemetry:Exporter=console", "--Serilog:MinimumLevel:Default=Debug");
        var serving = await process.WaitForLineAsync(new Regex(@"Dashboard serving GET (?<url>http://\S+/dashboard/\{id\})"), TimeSpan.FromSeconds(60));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        using var response = await http.GetAsync(serving.Groups["url"].Value.Replace("{id}", "1", StringComparison.Ordinal));

        Assert.Equal("Name: Alice | Order: 5", await response.Content.ReadAsStringAsync());
        var trace = Assert.Single(response.Headers.GetValues("X-Trace-Id"));
        var requestId = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        // The downstream service's own Serilog line ends in the same trace id and a span id of its own.
        await process.WaitForLineAsync(new Regex($@"profile service: request for 1 received trace {trace} span [0-9a-f]{{16}}$"), Generous);
        // The library's events name the request and its trace.
        await process.WaitForLineAsync(new Regex($@"Aggregation {requestId} succeeded in [\d.]+ ms \(trace {trace}, span [0-9a-f]{{16}}\)"), Generous);
        await process.WaitForLineAsync(new Regex($@"Fetch orders of {requestId} succeeded in [\d.]+ ms \(trace {trace}, span [0-9a-f]{{16}}\)"), Generous);
        // And the console exporter printed the request span.
        await process.WaitForLineAsync(new Regex(@"Activity.DisplayName:\s+aggregate dashboard-aggregator"), Generous);
        output.WriteLine(process.Stdout);
        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(100);
        return true;
    }

    /// <summary>The SDK's in-memory exporter (each span exported as it ends), read by trace id.</summary>
    private sealed class InMemorySpans
    {
        private readonly Exported _exported = new();

        public InMemorySpans() => Hooks = new DashboardTelemetryHooks(Tracing: tracing => tracing.AddInMemoryExporter(_exported));

        public DashboardTelemetryHooks Hooks { get; }

        public async Task<Activity> AwaitAsync(ActivityTraceId trace, Func<Activity, bool> match)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var inTrace = _exported.Snapshot().Where(s => s.TraceId == trace).ToArray();
                var found = inTrace.Where(match).ToArray();
                if (found.Length == 1) return found[0];
                if (found.Length > 1 || deadline.Elapsed > Generous)
                    throw new Xunit.Sdk.XunitException(
                        $"{found.Length} matching spans in trace {trace}; it has: {string.Join(", ", inTrace.Select(s => $"{s.Kind} {s.DisplayName}"))}");
                await Task.Delay(20);
            }
        }

        /// <summary>The exporter adds from the thread that ended the span; the spec reads from its own.</summary>
        private sealed class Exported : Collection<Activity>
        {
            protected override void InsertItem(int index, Activity item)
            {
                lock (this) base.InsertItem(index, item);
            }

            public Activity[] Snapshot()
            {
                lock (this) return [.. this];
            }
        }
    }
}
