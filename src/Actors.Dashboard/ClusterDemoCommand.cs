using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Actors.Aggregation;
using Actors.Dashboard.Services;
using Akka.Actor;
using Akka.Hosting;

namespace Actors.Dashboard;

/// <summary>
/// <c>cluster-demo</c>: this process is the front (it serves <c>GET /dashboard/{id}</c>, through the cluster front), and it
/// starts two workers as child processes (<c>serve</c> with the worker role, joining it). Then: the kata through the
/// cluster; six requests in flight while one worker is killed (each answered once: 200 from the survivor, or 503
/// <c>NodeFailed</c> naming the killed node, none hanging); the kata again, from the survivor. Exit 0 when all of that held.
/// </summary>
internal static class ClusterDemoCommand
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(90);

    /// <summary>What each worker is told besides its role: slow enough profile calls to be in flight when one is killed.</summary>
    public static readonly string[] WorkerArguments =
        ["--Dashboard:Services:Profile:Latency=1500ms", "--Aggregation:Dashboard:Timeout=10s"];

    /// <summary>The front's own arguments, added to the command line's.</summary>
    public static readonly string[] FrontArguments =
        ["--Dashboard:Cluster:Roles:0=front", "--Dashboard:Cluster:StableAfter=2s", "--Aggregation:Dashboard:Timeout=10s",
            "--Serilog:MinimumLevel:Override:Akka=Warning", "--Serilog:MinimumLevel:Override:Akka.Remote=Fatal"]; // the killed worker's connection errors: expected here, and long

    public static async Task<int> RunAsync(WebApplication app, TextWriter output)
    {
        var system = app.Services.GetRequiredService<ActorSystem>();
        var seed = Akka.Cluster.Cluster.Get(system).SelfAddress;
        var endpoint = new Uri(app.Services.GetRequiredService<DownstreamClient>().BaseAddress, "/dashboard/");
        output.WriteLine($"Cluster demo: the front at {seed} serves {endpoint}{{id}}; starting two workers as child processes");
        output.WriteLine("(Akka.Remote's connection errors about the killed worker are not logged in this demo)");
        var workers = new List<Process>();
        try
        {
            for (var i = 0; i < 2; i++) workers.Add(StartWorker(seed));
            var front = await app.Services.GetRequiredService<IRequiredActor<DashboardAggregator>>().GetAsync();
            var up = Stopwatch.StartNew();
            FrontStats stats;
            while ((stats = await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(5))).Aggregators < 2)
            {
                if (up.Elapsed > Startup || workers.Any(w => w.HasExited))
                {
                    output.WriteLine($"the workers did not join within {Startup.TotalSeconds:0} s (the front sees {stats.Aggregators})");
                    return DashboardProgram.Unexpected;
                }
                await Task.Delay(200);
            }
            output.WriteLine($"both workers joined after {up.Elapsed.TotalSeconds:0.0} s; the front sends requests to both");

            using var http = new HttpClient { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(60) };
            var ok = true;

            output.WriteLine("1. the kata through the cluster");
            ok &= Report(output, "   ", await GetAsync(http, 1), r => r.Status == HttpStatusCode.OK && r.Body == DemoCommand.Expected);

            output.WriteLine($"2. six requests in flight, then worker {workers[0].Id} is killed");
            var calls = Enumerable.Range(0, 6).Select(_ => GetAsync(http, 1)).ToArray();
            while ((await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(5))).InFlight < calls.Length) await Task.Delay(20);
            var killed = Stopwatch.GetTimestamp();
            workers[0].Kill(entireProcessTree: true);
            var results = await Task.WhenAll(calls);
            var failedOver = 0;
            foreach (var result in results)
            {
                var nodeFailed = result is { Status: HttpStatusCode.ServiceUnavailable, Cause: "NodeFailed" };
                if (nodeFailed) failedOver++;
                ok &= Report(output, "   ", result, r => nodeFailed || (r.Status == HttpStatusCode.OK && r.Body == DemoCommand.Expected));
            }
            output.WriteLine($"   {failedOver} answered NodeFailed, {results.Length - failedOver} by the other worker; the last answer came {Stopwatch.GetElapsedTime(killed).TotalSeconds:0.0} s after the kill; none hanging");
            ok &= failedOver > 0;

            output.WriteLine("3. the kata again, from the surviving worker");
            ok &= Report(output, "   ", await GetAsync(http, 1), r => r.Status == HttpStatusCode.OK && r.Body == DemoCommand.Expected);

            stats = await front.Ask<FrontStats>(GetFrontStats.Instance, TimeSpan.FromSeconds(5));
            output.WriteLine($"front: {stats.Forwarded} forwarded, {stats.NodeFailures} answered NodeFailed, {stats.LateReplies} late replies dropped, {stats.InFlight} in flight");
            output.WriteLine(ok ? "every request was answered once, as expected" : "UNEXPECTED: see above");
            return ok ? DashboardProgram.Success : DashboardProgram.Unexpected;
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited) worker.Kill(entireProcessTree: true);
                await worker.WaitForExitAsync();
                worker.Dispose();
            }
        }
    }

    private sealed record Result(int Id, HttpStatusCode Status, string Body, string? Cause, double ElapsedMs);

    private static async Task<Result> GetAsync(HttpClient http, int id)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var body = await response.Content.ReadAsStringAsync();
        string? cause = null;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            using var problem = JsonDocument.Parse(body);
            cause = problem.RootElement.TryGetProperty("cause", out var c) ? c.GetString() : null;
            body = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? body : body;
        }
        return new Result(id, response.StatusCode, body, cause, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static bool Report(TextWriter output, string indent, Result result, Func<Result, bool> expected)
    {
        var asExpected = expected(result);
        output.WriteLine($"{indent}GET /dashboard/{result.Id} -> {(int)result.Status} {(result.Cause is null ? "" : result.Cause + ": ")}{result.Body} ({result.ElapsedMs:0} ms){(asExpected ? "" : "  UNEXPECTED")}");
        return asExpected;
    }

    /// <summary>This program again, as <c>serve</c> with the worker role, joining <paramref name="seed"/>.</summary>
    private static Process StartWorker(Address seed)
    {
        var program = Environment.ProcessPath ?? "dotnet";
        var arguments = new List<string>();
        // Run as "dotnet Actors.Dashboard.dll" or as the apphost: start the worker the same way.
        if (Path.GetFileNameWithoutExtension(program).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            arguments.Add(typeof(ClusterDemoCommand).Assembly.Location);
        arguments.AddRange(["serve", "--urls", "http://127.0.0.1:0", "--Dashboard:Cluster:Roles:0=worker",
            $"--Dashboard:Cluster:SeedNodes:0={seed}", "--Serilog:MinimumLevel:Default=Warning"]);
        arguments.AddRange(WorkerArguments);
        var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a worker");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
