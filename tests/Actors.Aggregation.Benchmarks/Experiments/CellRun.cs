using System.Globalization;
using Actors.Aggregation.Benchmarks.Approaches;

namespace Actors.Aggregation.Benchmarks.Experiments;

/// <summary>
/// The --cell mode: one approach at one fan-out, several rounds, each in a fresh actor system; prints every round and the
/// median. Used for the before/after experiments in FINDINGS.md.
/// </summary>
public static class CellRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var kind = args.Length > 0 ? Enum.Parse<ApproachKind>(args[0]) : ApproachKind.Ours;
        var fanOut = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var inFlight = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1_000;
        var results = new List<Harness.LoadReport>();
        for (var round = 0; round < rounds; round++)
        {
            var r = await Experiments.ThroughputAsync(kind, fanOut, inFlight, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
            if (r.Unexpected > 0) throw new InvalidOperationException($"{r.Unexpected} unexpected replies, the first: {r.FirstUnexpected}");
            results.Add(r);
            Console.WriteLine(FormattableString.Invariant(
                $"{ApproachFactory.Label(kind)} fan-out {fanOut} round {round}: {r.RequestsPerSecond:N0} req/s, {r.MicrosecondsPerRequest:N2} µs/req, {r.BytesPerRequest:N0} B/req, gen0/1/2 {r.Gen0}/{r.Gen1}/{r.Gen2}"));
        }
        var median = results.OrderBy(r => r.RequestsPerSecond).ElementAt(results.Count / 2);
        Console.WriteLine(FormattableString.Invariant(
            $"MEDIAN {ApproachFactory.Label(kind)} fan-out {fanOut}: {median.RequestsPerSecond:N0} req/s, {median.MicrosecondsPerRequest:N2} µs/req, {median.BytesPerRequest:N0} B/req"));
        return 0;
    }
}
