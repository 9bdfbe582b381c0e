using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Actors.Aggregation.Benchmarks.Full;

/// <summary>
/// The one configuration every BenchmarkDotNet class here uses. In-process: the generated-project toolchain would build a
/// project under this repository, inheriting its warnings-as-errors and central package settings, for no gain in what
/// these benchmarks measure (they start their own actor systems and thread-pool work). One invocation is one batch of
/// requests (see OperationsPerInvoke), so the per-operation figures are per request.
/// </summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithInvocationCount(1)
            .WithUnrollFactor(1));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
        HideColumns(Column.Error, Column.StdDev);
    }
}
