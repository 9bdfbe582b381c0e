using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Definition;

/// <summary>
/// The forms a new user writes first must compile without a type in sight: untyped lambdas that ignore the token, discards,
/// a single-parameter context lambda, method groups, and typed lambdas. The overloads differ by arity (key and token, or
/// one context), so none of these is ambiguous. If an overload is added that makes one ambiguous, this file stops compiling.
/// </summary>
public sealed class FetchOverloadSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    private static Task<string> ProfileOf(int id, CancellationToken ct) => Task.FromResult($"Profile {id}");

    private static Task<string> RequestOf(FetchContext<int> context) => Task.FromResult($"Request {context.Key}");

    [Fact]
    public async Task Untyped_lambdas_method_groups_and_context_lambdas_must_compile_and_run_in_declared_order()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => Task.FromResult("Name: Alice"))
            .Fetch("orders", (_, _) => Task.FromResult("Order: 5"))
            .Fetch("context", context => Task.FromResult($"Key: {context.Key}, fetcher {context.Fetcher}"))
            .Fetch("method-group", ProfileOf)
            .Fetch("context-method-group", RequestOf)
            .Fetch("typed", (int id, CancellationToken ct) => Task.FromResult(id * 2))
            .Fetch("retried", (id, ct) => Task.FromResult("retried"), new RetryPolicy(2))
            .Fetch("retried-context", context => Task.FromResult(context.Attempt), new RetryPolicy(2))
            .Fetch("options", (id, ct) => Task.FromResult("options"), new FetchOptions { Retry = new RetryPolicy(2) })
            .Fetch("options-context", context => context.Attempt == 1 ? throw new TimeoutException("first") : Task.FromResult(context.Attempt),
                new FetchOptions { Retry = new RetryPolicy(2) { InitialBackoff = TimeSpan.FromMilliseconds(10), Jitter = 0 } })
            .Fetch("options-none", context => Task.FromResult(context.Attempt), FetchOptions.None)
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();

        var text = await Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(7);

        Assert.Equal("Name: Alice | Order: 5 | Key: 7, fetcher context | Profile 7 | Request 7 | 14 | retried | 1 | options | 2 | 1", text);
    }

    [Fact]
    public async Task Combine_must_turn_the_one_builder_into_a_typed_result_and_keep_every_fetch_form()
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", (id, _) => Task.FromResult($"user {id}"))
            .Combine(parts => (Name: parts.Get<string>("profile"), Orders: parts.Get<int>("orders")))
            .Fetch("orders", context => Task.FromResult(context.Key + 4))
            .Build();

        var result = await Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, (string Name, int Orders)>(1);

        Assert.Equal(("user 1", 5), result);
        Assert.Equal(typeof((string, int)), definition.ResultType);
    }
}
