using System.Collections.Concurrent;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// One definition per shape (fetcher count, policy, limit, each fetcher's retry policy), built once and shared by every
/// scenario: fetchers f0..f(n-1), each running its script from the request's key.
/// </summary>
public sealed class Definitions(bool coalescing = false)
{
    private readonly ConcurrentDictionary<string, AggregationDefinition<RequestRun, string>> _byShape = new();

    public int Count => _byShape.Count;

    public AggregationDefinition<RequestRun, string> For(RequestCase request) =>
        _byShape.GetOrAdd(request.DefinitionKey, _ => Build(request));

    private AggregationDefinition<RequestRun, string> Build(RequestCase request)
    {
        var builder = Aggregation.For<RequestRun>();
        foreach (var fetcher in request.Fetchers)
        {
            var index = fetcher.Index;
            builder = fetcher.Retry is { } retry
                ? builder.Fetch($"f{index}", (run, ct) => run.Fetch(index, ct), retry.ToLibrary())
                : builder.Fetch($"f{index}", (run, ct) => run.Fetch(index, ct));
        }
        if (request.Policy.Kind != PolicyKind.FailFast) builder = builder.WithPolicy(request.Policy.ToLibrary());
        if (request.Limit is { } limit) builder = builder.WithMaxConcurrency(limit);
        if (coalescing) builder = builder.WithCoalescing(); // requests for one RequestRun (the same instance) share a run
        var definition = builder.Build();
        return definition;
    }
}
