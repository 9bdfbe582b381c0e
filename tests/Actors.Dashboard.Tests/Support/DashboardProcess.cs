using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Actors.Dashboard.Tests.Support;

/// <summary>The built program (Actors.Dashboard.dll, copied next to the tests with its runtimeconfig and config/), run as a real process.</summary>
public sealed partial class DashboardProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waiters = new();

    private DashboardProcess(string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Actors.Dashboard.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Received(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Received(_stderr, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    public static DashboardProcess Start(params string[] args) => new(args);

    /// <summary>Runs the program to its end (60 s at most) and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (exitCode, process.Stdout, process.Stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the dashboard did not exit within {within}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>Completes with the first stdout line matching <paramref name="pattern"/>.</summary>
    public Task<Match> WaitForLineAsync(Regex pattern, TimeSpan within)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((pattern, found));
            foreach (var line in _stdout)
                if (pattern.Match(line) is { Success: true } match) found.TrySetResult(match);
        }
        return found.Task.WaitAsync(within);
    }

    /// <summary>Asks the program to stop as a service manager would (SIGTERM).</summary>
    public void Terminate()
    {
        if (kill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private void Received(ConcurrentQueue<string> lines, string? line)
    {
        if (line is null) return;
        lock (_waiters)
        {
            lines.Enqueue(line);
            if (!ReferenceEquals(lines, _stdout)) return;
            foreach (var (pattern, found) in _waiters)
                if (pattern.Match(line) is { Success: true } match) found.TrySetResult(match);
        }
    }

    /// <summary>The dotnet host that runs this test (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
