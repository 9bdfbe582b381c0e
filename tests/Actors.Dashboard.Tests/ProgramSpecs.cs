using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Actors.Dashboard.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Dashboard.Tests;

/// <summary>The program as a user runs it: the demo, serve, and bad configuration, each a real process of the built Actors.Dashboard.dll.</summary>
public sealed partial class ProgramSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task The_demo_must_run_the_three_kata_cases_print_each_outcome_with_its_time_and_exit_0()
    {
        var (exitCode, stdout, stderr) = await DashboardProcess.RunAsync("demo");
        output.WriteLine(stdout);
        output.WriteLine(stderr);

        Assert.Equal(0, exitCode);
        var outcomes = Outcome().Matches(stdout).Select(m => (Text: m.Groups["text"].Value, Ms: double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(3, outcomes.Length);
        Assert.Equal("Name: Alice | Order: 5", outcomes[0].Text);
        Assert.StartsWith("FetcherFailed: fetcher 'orders' failed: HttpRequestException: orders service answered 500", outcomes[1].Text, StringComparison.Ordinal);
        Assert.Equal("DeadlineExceeded: deadline of 1000 ms exceeded; pending: profile", outcomes[2].Text);
        // Fail fast: the failure is answered before the slow sibling (750 ms) could have finished; the deadline at about the
        // timeout (1000 ms), long before the slow profile's 2000 ms. Wide windows: the machine is small and noisy.
        Assert.InRange(outcomes[1].Ms, 0, 749);
        Assert.InRange(outcomes[2].Ms, 1000, 1999);
        Assert.Equal(2, Regex.Matches(stdout, @"-> the profile service saw its request aborted \d+ ms into it").Count);
        Assert.Contains("All 3 cases behaved as expected.", stdout);
        // Each case's text waterfall, from the library's spans: the failing fetch in x, the cancelled sibling's token as |.
        Assert.Equal(3, Regex.Matches(stdout, @"^   reply +\^ +\d+\.\d ms$", RegexOptions.Multiline).Count);
        Assert.Matches(@"(?m)^   orders +x+ +\d+\.\d ms  failure$", stdout);
        Assert.Matches(@"(?m)^   profile +#+\|-* +\d+\.\d ms  cancelled \(sibling_failed: orders\), stopped \d+\.\d ms after its token$", stdout);
        Assert.Matches(@"(?m)^   profile +#+\|-* +\d+\.\d ms  cancelled \(deadline_exceeded\)", stdout);
        // The server's own log line, readable console format by default.
        Assert.Matches(@"\[\d\d:\d\d:\d\d INF\] profile service: request for 1 aborted by the caller", stdout);
    }

    [Fact]
    public async Task The_cluster_demo_must_answer_every_request_once_when_a_worker_process_is_killed_and_exit_0()
    {
        var (exitCode, stdout, stderr) = await DashboardProcess.RunAsync("cluster-demo");
        output.WriteLine(stdout);
        output.WriteLine(stderr);

        Assert.Equal(0, exitCode);
        Assert.Contains("both workers joined", stdout);
        var answers = Regex.Matches(stdout, @"GET /dashboard/1 -> (?<status>\d{3}) (?<text>.*) \(\d+ ms\)").Select(m => (m.Groups["status"].Value, m.Groups["text"].Value)).ToArray();
        Assert.Equal(8, answers.Length); // the kata, the six around the kill, the kata again: each answered once
        Assert.Equal(("200", "Name: Alice | Order: 5"), answers[0]);
        Assert.Equal(("200", "Name: Alice | Order: 5"), answers[^1]);
        Assert.All(answers[1..^1], a => Assert.True(a == ("200", "Name: Alice | Order: 5") || (a.Item1 == "503" && a.Item2.StartsWith("NodeFailed: node akka.tcp://dashboard@127.0.0.1:", StringComparison.Ordinal)), $"{a}"));
        Assert.Contains(answers[1..^1], a => a.Item1 == "503");
        Assert.DoesNotContain("UNEXPECTED", stdout);
        Assert.Contains("every request was answered once, as expected", stdout);
    }

    [Fact]
    public async Task Configuration_must_switch_the_console_log_to_JSON()
    {
        var (exitCode, stdout, _) = await DashboardProcess.RunAsync("demo",
            "--Serilog:WriteTo:0:Args:formatter=Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact");

        Assert.Equal(0, exitCode);
        var events = stdout.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.True(e.TryGetProperty("@t", out _) && e.TryGetProperty("@mt", out _)));
        var abort = events.First(e => e.GetProperty("@mt").GetString()!.Contains("aborted by the caller", StringComparison.Ordinal));
        Assert.Equal("profile", abort.GetProperty("Service").GetString());
        Assert.Contains(events, e => e.TryGetProperty("Outcome", out var o) && o.GetString() == "deadline-exceeded");
        Assert.DoesNotMatch(@"\[\d\d:\d\d:\d\d INF\]", stdout);
    }

    [Fact]
    public async Task A_Debug_minimum_level_must_show_the_librarys_Debug_events_and_Information_must_not()
    {
        const string json = "--Serilog:WriteTo:0:Args:formatter=Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact";
        var debug = await DashboardProcess.RunAsync("demo", json, "--Serilog:MinimumLevel:Default=Debug");
        var information = await DashboardProcess.RunAsync("demo", json);

        static JsonElement[] Events(string stdout) =>
            stdout.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        static bool IsFetchEnd(JsonElement e) =>
            e.TryGetProperty("@l", out var level) && level.GetString() == "Debug" && e.TryGetProperty("Fetcher", out _);
        Assert.Equal((0, 0), (debug.ExitCode, information.ExitCode));
        var fetchEnds = Events(debug.Stdout).Where(IsFetchEnd).ToArray();
        Assert.Contains(fetchEnds, e => e.GetProperty("Fetcher").GetString() == "orders");
        Assert.DoesNotContain(Events(information.Stdout), IsFetchEnd);
    }

    [Fact]
    public async Task Serve_must_answer_GET_dashboard_1_and_exit_0_on_SIGTERM()
    {
        // A cold process's first request pays for JIT: more room than the shipped 1 s, on a small and noisy machine.
        using var process = DashboardProcess.Start("serve", "--urls", "http://127.0.0.1:0", "--Aggregation:Dashboard:Timeout=00:00:10");
        var serving = await process.WaitForLineAsync(Serving(), TimeSpan.FromSeconds(60));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var text = await http.GetStringAsync(serving.Groups["url"].Value.Replace("{id}", "1", StringComparison.Ordinal));

        Assert.Equal("Name: Alice | Order: 5", text);
        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("demo", "--Aggregation:Dashboard:Timeout=-00:00:01", "Aggregation:Dashboard:Timeout")]
    [InlineData("demo", "--Aggregation:Dashboard:Timout=1s", "Aggregation:Dashboard:Timout")]
    [InlineData("demo", "--Aggregation:Orders:Timeout=1s", "Aggregation:Orders")]
    [InlineData("demo", "--Dashboard:Services:Orders:FailureRate=2", "Dashboard:Services:Orders:FailureRate")]
    [InlineData("demo", "--Dashboard:Services:Profile:Latancy=1s", "Dashboard:Services:Profile:Latancy")]
    [InlineData("serve", "--urls=https://127.0.0.1:5999", "Urls")]
    [InlineData("demo", "--Dashboard:Orders:Optional=maybe", "Dashboard:Orders:Optional")]
    [InlineData("demo", "--Dashboard:Orders:Timeout=0s", "Dashboard:Orders:Timeout")]
    [InlineData("demo", "--Dashboard:Orders:Fallback=none", "Dashboard:Orders:Fallback")]
    [InlineData("demo", "--Dashboard:Telemetry:Exporter=jaeger", "Dashboard:Telemetry:Exporter")]
    [InlineData("demo", "--Dashboard:Telemetry:Prometheus=yes", "Dashboard:Telemetry:Prometheus")]
    [InlineData("demo", "--Dashboard:Telemetry:Sampler=always", "Dashboard:Telemetry:Sampler")]
    [InlineData("demo", "--Dashboard:Telemetry:RequestsPage=on", "Dashboard:Telemetry:RequestsPage")]
    public async Task Bad_configuration_must_exit_2_with_one_line_naming_the_setting(string command, string argument, string setting)
    {
        var (exitCode, stdout, stderr) = await DashboardProcess.RunAsync(command, argument);

        AssertOneLineError(exitCode, stdout, stderr, setting);
    }

    [Fact]
    public async Task An_OTLP_endpoint_that_is_not_an_address_must_exit_2_with_one_line_naming_it()
    {
        var (exitCode, stdout, stderr) = await DashboardProcess.RunAsync("demo", "--Dashboard:Telemetry:Exporter=otlp", "--OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317");

        AssertOneLineError(exitCode, stdout, stderr, "OTEL_EXPORTER_OTLP_ENDPOINT");
    }

    [Fact]
    public async Task A_port_already_taken_must_exit_2_with_one_line_naming_Urls()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, stdout, stderr) = await DashboardProcess.RunAsync("serve", "--urls", $"http://127.0.0.1:{port}");

        AssertOneLineError(exitCode, stdout, stderr, "Urls");
        Assert.Contains($"port {port}", stderr);
    }

    [Fact]
    public async Task An_unknown_command_must_exit_2_with_the_usage()
    {
        var (exitCode, _, stderr) = await DashboardProcess.RunAsync("launch");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("error: unknown command 'launch'.", stderr, StringComparison.Ordinal);
        Assert.Contains("usage:", stderr);
    }

    private void AssertOneLineError(int exitCode, string stdout, string stderr, string setting)
    {
        output.WriteLine($"exit {exitCode}; stderr: {stderr}; stdout: {stdout}");
        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(setting, line);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [GeneratedRegex(@"^   -> (?<text>.+?)  \((?<ms>\d+) ms\)$", RegexOptions.Multiline)]
    private static partial Regex Outcome();

    [GeneratedRegex(@"Dashboard serving GET (?<url>http://127\.0\.0\.1:\d+/dashboard/\{id\})")]
    private static partial Regex Serving();
}
