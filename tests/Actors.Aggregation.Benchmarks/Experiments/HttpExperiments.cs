using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Actors.Aggregation.Benchmarks.Harness;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// The --http mode: end to end over real HTTP on loopback. The dashboard host (the built Actors.Dashboard, <c>serve</c>) and a
/// plain ASP.NET Core <c>Task.WhenAll</c> endpoint (Actors.Dashboard.PlainHost, <c>plain</c>), each a child process with its
/// own zero-latency profile and orders services, driven by wrk in interleaved rounds; a third side, the dashboard host with
/// the same <c>Task.WhenAll</c> endpoint inside it (<c>in-host</c>, <c>GET /direct/{id}</c>), tells the library's cost from the
/// host's. Child processes: each host runs as it does in production (its own runtime configuration, server GC, its own
/// thread pool and Kestrel), not inside the benchmark's process.
/// </summary>
public static class HttpExperiments
{
    private static readonly int[] ConnectionCounts = [50, 200];
    private const int Rounds = 3;
    private const int WrkThreads = 2;
    private static readonly TimeSpan RoundDuration = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    // The targets, over real HTTP, zero-latency services, 50 and 200 connections.
    private const double TargetRequestsRatio = 0.9;
    private const double TargetP99Ratio = 1.2;

    /// <summary>The body both endpoints answer for id 1.</summary>
    public const string Expected = "Name: Alice | Order: 5";

    /// <summary>Zero-latency services that never fail, logs at Warning and above, no requests page (so neither logging nor tracing is what is measured).</summary>
    private static readonly string[] HostArguments =
    [
        "--Dashboard:Services:Profile:Latency=0ms", "--Dashboard:Services:Profile:FailureRate=0",
        "--Dashboard:Services:Orders:Latency=0ms", "--Dashboard:Services:Orders:FailureRate=0",
        "--Serilog:MinimumLevel:Default=Warning", "--Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Warning",
        "--Logging:LogLevel:Default=Warning",
        // The requests page traces every request to draw it; the plain endpoint traces nothing.
        "--Dashboard:Telemetry:RequestsPage=false",
    ];

    private sealed record Side(string Name, string Program, string Mode, string Path, bool Plain, bool Target);

    public static async Task<int> RunAsync(string[] args)
    {
        _ = args;
        var wrk = Wrk.Find();
        if (wrk is null)
        {
            Console.Error.WriteLine("error: --http needs wrk on PATH, and it is not there. Install it (apt-get update && apt-get install -y wrk), " +
                                    "or run tests/Actors.Aggregation.Benchmarks/http-bench.sh, which installs it, builds Release and runs this mode.");
            return 2;
        }

        var output = AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar);
        var framework = System.IO.Path.GetFileName(output);
        var configuration = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(output)) ?? "Release";
        var root = FindRepositoryRoot(output);
        if (root is null)
        {
            Console.Error.WriteLine($"error: --http runs the hosts from their build folders, but found no Actors.sln above {output}.");
            return 2;
        }
        var dashboard = System.IO.Path.Combine(root, "src", "Actors.Dashboard", "bin", configuration, framework, "Actors.Dashboard.dll");
        var plainHost = System.IO.Path.Combine(root, "tests", "Actors.Dashboard.PlainHost", "bin", configuration, framework, "Actors.Dashboard.PlainHost.dll");
        foreach (var dll in new[] { dashboard, plainHost })
            if (!File.Exists(dll))
            {
                Console.Error.WriteLine($"error: {dll} is missing: build first (dotnet build -c {configuration} Actors.sln).");
                return 2;
            }

        Side[] sides =
        [
            new("dashboard host (AggregateAsync)", dashboard, "serve", "/dashboard/1", Plain: false, Target: true),
            new("plain Task.WhenAll endpoint", plainHost, "plain", "/dashboard/1", Plain: true, Target: false),
            new("dashboard host, Task.WhenAll inside it", plainHost, "in-host", "/direct/1", Plain: false, Target: false),
        ];

        var clock = Stopwatch.StartNew();
        var loadAtStart = LoadAverage();
        Console.WriteLine($"Actors.Aggregation benchmark, --http: {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, " +
                          $"{RuntimeInformation.OSDescription}, {configuration} build, wrk at {wrk}, load average {loadAtStart} at start");
        Console.WriteLine($"zero-latency services; each host a child process on 127.0.0.1; wrk -t{WrkThreads} -c{{N}} -d{RoundDuration.TotalSeconds:0}s --latency; " +
                          $"{Rounds} interleaved rounds per side, medians");
        Console.WriteLine();

        var hosts = new List<Host>();
        try
        {
            foreach (var side in sides) hosts.Add(Host.Start(side, FreePort()));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var host in hosts) await host.WaitUntilAnsweringAsync(http);
            Progress("all hosts answered the expected body; warm-up: wrk -c50 3 s and -c200 3 s per side, not measured");
            foreach (var host in hosts)
            foreach (var connections in ConnectionCounts)
            {
                var warm = await Wrk.RunAsync(wrk, host.Url, WrkThreads, connections, TimeSpan.FromSeconds(3));
                if (warm.Non2xx > 0 || warm.SocketErrors > 0)
                    Progress($"  warm-up {host.Side.Name} -c{connections}: {warm.Non2xx} non-2xx, {warm.SocketErrors} socket errors");
            }

            var results = new Dictionary<(int, Side), List<WrkReport>>();
            foreach (var connections in ConnectionCounts)
                for (var round = 0; round < Rounds; round++)
                    for (var i = 0; i < hosts.Count; i++)
                    {
                        // Each round starts with a different side, so no side always runs first (or right after a given one).
                        var host = hosts[(i + round) % hosts.Count];
                        host.ThrowIfExited();
                        var report = await Wrk.RunAsync(wrk, host.Url, WrkThreads, connections, RoundDuration);
                        Progress($"  -c{connections} round {round + 1}: {host.Side.Name}: {report.RequestsPerSecond:N0} requests/s, " +
                                 $"p50 {report.P50Ms:0.00} ms, p99 {report.P99Ms:0.00} ms, {report.Non2xx} non-2xx, {report.SocketErrors} socket errors");
                        (results.TryGetValue((connections, host.Side), out var list) ? list : results[(connections, host.Side)] = []).Add(report);
                    }
            foreach (var host in hosts) await host.CheckStillAnsweringAsync(http);

            var table = new Table("connections", "side", "requests/s", "p50 ms", "p99 ms", "non-2xx", "socket errors",
                "requests/s per round", "requests/s vs plain", "p99 vs plain");
            var verdicts = new List<(int Connections, double Requests, double P99)>();
            foreach (var connections in ConnectionCounts)
            {
                var plain = Medians(results[(connections, sides.Single(s => s.Plain))]);
                foreach (var side in sides)
                {
                    var reports = results[(connections, side)];
                    var median = Medians(reports);
                    var requestsRatio = median.RequestsPerSecond / plain.RequestsPerSecond;
                    var p99Ratio = median.P99Ms / plain.P99Ms;
                    if (side.Target) verdicts.Add((connections, requestsRatio, p99Ratio));
                    table.Add(connections, side.Name, median.RequestsPerSecond, median.P50Ms.ToString("0.00", CultureInfo.InvariantCulture),
                        median.P99Ms.ToString("0.00", CultureInfo.InvariantCulture), reports.Sum(r => r.Non2xx), reports.Sum(r => r.SocketErrors),
                        string.Join(" / ", reports.Select(r => r.RequestsPerSecond.ToString("N0", CultureInfo.InvariantCulture))),
                        Units.Ratio(requestsRatio), Units.Ratio(p99Ratio));
                }
            }
            Console.WriteLine("Over real HTTP: the dashboard host against a plain Task.WhenAll endpoint (non-2xx and socket errors: summed over the rounds)");
            Console.WriteLine();
            Console.Write(table);
            Console.WriteLine();
            Console.WriteLine($"(measured in {clock.Elapsed.TotalSeconds:0} s)");
            Console.WriteLine();

            var requestsMet = verdicts.All(v => v.Requests >= TargetRequestsRatio);
            var p99Met = verdicts.All(v => v.P99 <= TargetP99Ratio);
            var errors = results.Where(r => r.Key.Item2.Target || r.Key.Item2.Plain).Sum(r => r.Value.Sum(w => w.Non2xx + w.SocketErrors));
            Console.WriteLine("SUMMARY " +
                $"dashboard requests/s >= {TargetRequestsRatio:0.0}x plain at {string.Join(" and ", ConnectionCounts)} connections " +
                $"({string.Join(", ", verdicts.Select(v => Units.Ratio(v.Requests)))}: {(requestsMet ? "met" : "missed")}); " +
                $"dashboard p99 <= {TargetP99Ratio:0.0}x plain ({string.Join(", ", verdicts.Select(v => Units.Ratio(v.P99)))}: {(p99Met ? "met" : "missed")}); " +
                $"{(requestsMet ? 1 : 0) + (p99Met ? 1 : 0)}/2 targets met; {errors} non-2xx or socket errors on the two sides; " +
                $"load average {loadAtStart} at start, {LoadAverage()} at end");
            return 0;
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    private static WrkReport Medians(List<WrkReport> reports) => new(
        Median(reports.Select(r => r.RequestsPerSecond)), Median(reports.Select(r => r.P50Ms)), Median(reports.Select(r => r.P99Ms)),
        reports.Sum(r => r.Requests), reports.Sum(r => r.Non2xx), reports.Sum(r => r.SocketErrors));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>A child process serving one side on its own loopback port; its output is kept for error messages.</summary>
    private sealed class Host : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Queue<string> _lastLines = new();

        private Host(Side side, Process process, string url)
        {
            Side = side;
            _process = process;
            Url = url;
            _process.OutputDataReceived += (_, e) => Keep(e.Data);
            _process.ErrorDataReceived += (_, e) => Keep(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public Side Side { get; }

        public string Url { get; }

        public static Host Start(Side side, int port)
        {
            var baseUrl = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("dotnet", [side.Program, side.Mode, "--urls", baseUrl, .. HostArguments])
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {side.Program}");
            return new Host(side, process, baseUrl + side.Path);
        }

        /// <summary>Waits until the side answers, then checks its answer: 200 and the expected body, or the run stops.</summary>
        public async Task WaitUntilAnsweringAsync(HttpClient http)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                ThrowIfExited();
                HttpResponseMessage response;
                try
                {
                    response = await http.GetAsync(Url);
                }
                catch (HttpRequestException) when (waited.Elapsed < Startup)
                {
                    await Task.Delay(200);
                    continue;
                }
                using (response) await CheckAsync(response);
                Progress($"{Side.Name} answered '{Expected}' at {Url} after {waited.Elapsed.TotalSeconds:0.0} s");
                return;
            }
        }

        public async Task CheckStillAnsweringAsync(HttpClient http)
        {
            ThrowIfExited();
            using var response = await http.GetAsync(Url);
            await CheckAsync(response);
        }

        private async Task CheckAsync(HttpResponseMessage response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK || body != Expected)
                throw new InvalidOperationException(
                    $"{Side.Name} at {Url} answered {(int)response.StatusCode} '{body}', not 200 '{Expected}': the run stops here.{Tail()}");
        }

        public void ThrowIfExited()
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Side.Name} ({System.IO.Path.GetFileName(Side.Program)} {Side.Mode}) exited with {_process.ExitCode}.{Tail()}");
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            lock (_lastLines)
            {
                _lastLines.Enqueue(line);
                while (_lastLines.Count > 20) _lastLines.Dequeue();
            }
        }

        private string Tail()
        {
            lock (_lastLines) return _lastLines.Count == 0 ? "" : "\nits last output:\n" + string.Join("\n", _lastLines);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindRepositoryRoot(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Actors.sln"))) return dir.FullName;
        return null;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static readonly Stopwatch Since = Stopwatch.StartNew();

    private static void Progress(string line) => Console.Error.WriteLine($"[{Since.Elapsed.TotalSeconds,5:0.0} s] {line}");
}
