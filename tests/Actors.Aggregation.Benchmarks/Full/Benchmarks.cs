using Actors.Aggregation.Benchmarks.Approaches;
using Actors.Aggregation.Benchmarks.Harness;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace Actors.Aggregation.Benchmarks.Full;

public static class FullRun
{
    public static int Run(string[] args)
    {
        // The classes carry [Config(typeof(BenchmarkConfig))]; the switcher adds BenchmarkDotNet's default loggers and exporters.
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(FullRun).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

/// <summary>
/// The four approaches, fan-outs 1, 2, 10, 100, 1,000 requests in flight from a driver actor, fetches that
/// complete at once. One operation is one request (a batch of <see cref="Batch"/> per invocation).
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ThroughputBenchmarks
{
    private const int Batch = 20_000;
    private const int InFlight = 1_000;
    private ActorSystem _system = null!;
    private Dictionary<ApproachKind, IApproach> _approaches = null!;

    [Params(1, 2, 10, 100)]
    public int FanOut { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _system = BenchSystem.Create();
        var workload = Workload.Instant(FanOut);
        _approaches = ApproachFactory.All.ToDictionary(k => k, k => ApproachFactory.Create(k, _system, workload));
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public Task<LoadReport> Floor() => Drive(ApproachKind.Floor);

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task<LoadReport> HandWrittenAkka() => Drive(ApproachKind.HandWrittenAkka);

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task<LoadReport> AskScatterGather() => Drive(ApproachKind.AskScatterGather);

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task<LoadReport> Ours() => Drive(ApproachKind.Ours);

    private Task<LoadReport> Drive(ApproachKind kind) =>
        _system.DriveAsync(_approaches[kind], new LoadPlan(InFlight) { TotalRequests = Batch });
}

/// <summary>
/// Cost per fetcher as fan-out grows (item 2): one operation is one fetcher. 10,000 fetches stay in flight at every fan-out.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class FetcherScalingBenchmarks
{
    private const int FetchesPerBatch = 200_000;
    private const int FetchesInFlight = 10_000;
    private ActorSystem _system = null!;
    private IApproach _floor = null!;
    private IApproach _ours = null!;

    [Params(10, 100, 1_000)]
    public int FanOut { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _system = BenchSystem.Create();
        var workload = Workload.Instant(FanOut);
        _floor = ApproachFactory.Create(ApproachKind.Floor, _system, workload);
        _ours = ApproachFactory.Create(ApproachKind.Ours, _system, workload);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark(Baseline = true, OperationsPerInvoke = FetchesPerBatch)]
    public Task<LoadReport> Floor() => Drive(_floor);

    [Benchmark(OperationsPerInvoke = FetchesPerBatch)]
    public Task<LoadReport> Ours() => Drive(_ours);

    private Task<LoadReport> Drive(IApproach approach) =>
        _system.DriveAsync(approach, new LoadPlan(FetchesInFlight / FanOut) { TotalRequests = FetchesPerBatch / FanOut });
}

/// <summary>One aggregator against pools of aggregators behind one ref, at 1,000 and 10,000 requests in flight, fan-out 2.</summary>
[Config(typeof(BenchmarkConfig))]
public class InFlightBenchmarks
{
    private const int Batch = 40_000;
    private ActorSystem _system = null!;
    private IApproach _single = null!;
    private IApproach _hashed = null!;
    private IApproach _roundRobin = null!;

    [Params(1_000, 10_000)]
    public int InFlight { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _system = BenchSystem.Create();
        var workload = Workload.Instant(2);
        var routees = Math.Max(2, Environment.ProcessorCount);
        _single = ApproachFactory.Create(ApproachKind.Ours, _system, workload);
        _hashed = ApproachFactory.CreateOursPool(_system, workload, routees);
        _roundRobin = ApproachFactory.CreateOursRoundRobin(_system, workload, routees);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public Task<LoadReport> OneAggregator() => Drive(_single);

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task<LoadReport> ConsistentHashPool() => Drive(_hashed);

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task<LoadReport> RoundRobinPool() => Drive(_roundRobin);

    private Task<LoadReport> Drive(IApproach approach) =>
        _system.DriveAsync(approach, new LoadPlan(InFlight) { TotalRequests = Batch });
}
