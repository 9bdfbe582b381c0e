using Actors.Aggregation.Benchmarks.Experiments;
using Actors.Aggregation.Benchmarks.Full;
using Actors.Aggregation.Benchmarks.Profiling;

// dotnet run -c Release --project tests/Actors.Aggregation.Benchmarks -- --quick [section ...]
// dotnet run -c Release --project tests/Actors.Aggregation.Benchmarks -- --full [BenchmarkDotNet arguments]
// dotnet run -c Release --project tests/Actors.Aggregation.Benchmarks -- --profile [fan-out [approach ...]]
// dotnet run -c Release --project tests/Actors.Aggregation.Benchmarks -- --cell [approach [fan-out [rounds [in-flight]]]]
// tests/Actors.Aggregation.Benchmarks/http-bench.sh   (installs wrk if missing, builds Release, runs --http)
return args.FirstOrDefault() switch
{
    "--quick" => await QuickRun.RunAsync(args[1..]),
    "--full" => FullRun.Run(args[1..]),
    "--profile" => await AllocationProfile.RunAsync(args[1..]),
    "--cell" => await CellRun.RunAsync(args[1..]),
    "--http" => await HttpExperiments.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        Actors.Aggregation benchmarks: the floor (Task.WhenAll), hand-written Akka.NET, Ask scatter-gather and AggregatorActor, side by side.
          --quick [throughput|pool|retained|retained-all|siblings|deadline|scaling|nodes|hotkey|tail|telemetry ...]
                                                                             every figure in under 3 minutes; last line: the summary
          --full [BenchmarkDotNet args]                                      BenchmarkDotNet (default filter: *), then the extra figures
          --profile [fan-out [approach ...]]                                 sampled allocations per request, by type, per approach
          --cell [approach [fan-out [rounds [in-flight]]]]                   one approach, several rounds, and their median
          --http                                                             end to end over HTTP: the dashboard host against a plain
                                                                             Task.WhenAll endpoint, driven by wrk (on PATH; http-bench.sh
                                                                             installs it); about 2 minutes
        """);
    return 2;
}
