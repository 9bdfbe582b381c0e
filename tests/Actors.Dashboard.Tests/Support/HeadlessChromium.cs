using System.Diagnostics;

namespace Actors.Dashboard.Tests.Support;

/// <summary>
/// Real headless Chromium as a child process (<c>/usr/bin/chromium</c>, or <c>CHROMIUM</c>): the DOM it builds from a page,
/// and a screenshot of it. Each run gets a profile directory of its own, removed after.
/// </summary>
public static class HeadlessChromium
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(90);

    public static string Executable => Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>The DOM after the page loaded, serialized (<c>--dump-dom</c>).</summary>
    public static async Task<string> DumpDomAsync(Uri page) => (await RunAsync("--dump-dom", page.ToString())).Stdout;

    /// <summary>Saves a PNG of <paramref name="page"/> in a window of <paramref name="width"/> by <paramref name="height"/> to <paramref name="path"/>.</summary>
    public static async Task ScreenshotAsync(Uri page, string path, int width = 1200, int height = 900)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Delete(path);
        var (_, stderr) = await RunAsync($"--screenshot={path}", $"--window-size={width},{height}", "--hide-scrollbars", page.ToString());
        if (!File.Exists(path)) throw new InvalidOperationException($"Chromium wrote no screenshot to {path}. stderr:\n{stderr}");
    }

    private static async Task<(string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"Chromium is not installed at {Executable} (.ci/run installs it; or set CHROMIUM).");
        var profile = Directory.CreateTempSubdirectory("dashboard-chromium-");
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     $"--user-data-dir={profile.FullName}", .. args])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Within);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Chromium did not finish within {Within}: {string.Join(' ', args)}");
            }
            var (output, errors) = (await stdout, await stderr);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"Chromium exited {process.ExitCode}: {string.Join(' ', args)}\nstderr:\n{errors}");
            return (output, errors);
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A helper process may still hold a file for a moment; the temp folder is the system's to clean.
            }
        }
    }
}
