using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Actors.Aggregation.Benchmarks.Harness;

/// <summary>One wrk run: requests/s, latency percentiles (from <c>--latency</c>), non-2xx/3xx responses and socket errors.</summary>
public sealed record WrkReport(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors);

/// <summary>Runs Debian's <c>wrk</c> and parses its text output.</summary>
public static partial class Wrk
{
    /// <summary>The wrk executable on PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "wrk"))
            .FirstOrDefault(File.Exists);

    /// <summary><c>wrk -t{threads} -c{connections} -d{seconds}s --latency url</c>; throws when wrk fails or prints no figures.</summary>
    public static async Task<WrkReport> RunAsync(string wrk, string url, int threads, int connections, TimeSpan duration)
    {
        var start = new ProcessStartInfo(wrk,
            ["-t" + threads, "-c" + connections, "-d" + ((int)Math.Ceiling(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s", "--latency", url])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start wrk");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {await stderr}{output}");
        return Parse(output);
    }

    /// <summary>Parses wrk 4's output (with <c>--latency</c>).</summary>
    public static WrkReport Parse(string output)
    {
        var rps = RequestsPerSecond().Match(output);
        var p50 = Percentile(output, "50");
        var p99 = Percentile(output, "99");
        var requests = Requests().Match(output);
        if (!rps.Success || p50 is null || p99 is null || !requests.Success)
            throw new InvalidOperationException("wrk printed no requests/s or latency distribution:\n" + output);
        var non2xx = Non2xx().Match(output);
        var errors = SocketErrors().Match(output);
        var socketErrors = errors.Success
            ? Enumerable.Range(1, 4).Sum(i => long.Parse(errors.Groups[i].Value, CultureInfo.InvariantCulture))
            : 0;
        return new WrkReport(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), p50.Value, p99.Value,
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socketErrors);
    }

    private static double? Percentile(string output, string percent)
    {
        var match = Regex.Match(output, @"^\s*" + percent + @"(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
        if (!match.Success) return null;
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            _ => value * 60_000,
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
