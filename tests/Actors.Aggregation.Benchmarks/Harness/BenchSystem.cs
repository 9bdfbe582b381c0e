using Akka.Actor;
using Akka.Configuration;

namespace Actors.Aggregation.Benchmarks.Harness;

/// <summary>The actor system every measurement runs in: Akka's defaults, except logging.</summary>
public static class BenchSystem
{
    /// <summary>
    /// Logging is at ERROR for every approach: the peers log nothing per request, and our library's per-request Info and
    /// Warning events would otherwise be measured as aggregation cost (FINDINGS.md measures what they cost when on).
    /// Dispatcher, throughput and scheduler tick are Akka's defaults, as users get them.
    /// </summary>
    public static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.loglevel = ERROR
        akka.stdout-loglevel = ERROR
        """).WithFallback(Prototypes.LeanMailbox.DeploymentConfig("ours-lean"));

    public static ActorSystem Create(string name = "bench", Config? overrides = null)
    {
        var system = ActorSystem.Create(name, overrides is null ? Config : overrides.WithFallback(Config));
        // Akka's HashedWheelTimerScheduler starts its thread on first use, and every thread that schedules meanwhile blocks
        // in Start() (Task.Wait). Left to the measured load, a thousand coordinators arming their deadlines at once
        // starve the thread pool for seconds. A service has long been running when its load arrives: start it here.
        var started = new ManualResetEventSlim();
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), started.Set);
        if (!started.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("Akka's scheduler did not start");
        return system;
    }

    /// <summary>Keeps <paramref name="plan"/>'s load on <paramref name="approach"/> from a fresh driver actor until it is done.</summary>
    public static Task<LoadReport> DriveAsync(this ActorSystem system, Approaches.IApproach approach, LoadPlan plan, TimeSpan? limit = null)
    {
        var done = new TaskCompletionSource<LoadReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(LoadDriver.Props()).Tell(new LoadDriver.Run(approach, plan, done));
        return done.Task.WaitAsync(limit ?? TimeSpan.FromMinutes(2));
    }

    /// <summary>Bytes live on the managed heap after two full, compacting, blocking collections.</summary>
    public static long LiveHeapBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}

/// <summary>Nearest-rank percentiles.</summary>
public static class Percentiles
{
    public static double Of(double[] values, double percentile)
    {
        if (values.Length == 0) return double.NaN;
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
