// snippet:begin leak-check-usings
using Actors.Aggregation.Testing;
// snippet:end
using System.Collections.Concurrent;
using Actors.Aggregation;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Configuration;
using Akka.Routing;
using Xunit;
using Xunit.Abstractions;

// Outside namespace Actors: there, Aggregation would name the namespace Actors.Aggregation instead of the type, as in a user's code it does not.
namespace ReadmeSamples;

public sealed record Profile(string Name);

public sealed record GetProfile(int Id);

public sealed record Recs(IReadOnlyList<string> Items)
{
    public static readonly Recs None = new([]);
}

public sealed record Dashboard(Profile Profile, Recs Recommendations);

public sealed record Summary(string Name, int Orders);

/// <summary>
/// The examples of src/Actors.Aggregation/README.md, compiled and run, each asserting what the README says it does. The
/// services they call are the small fakes below, so the README's code reads as it would against real ones.
/// </summary>
public sealed class LibraryReadmeSamples(ITestOutputHelper output) : AggregationSpec(output)
{
    /// <summary>A profile service: Alice for every id; <see cref="Hang"/> makes it wait for its token instead.</summary>
    private sealed class ProfileService
    {
        public bool Hang { get; init; }

        public async Task<string> GetNameAsync(int id, CancellationToken ct)
        {
            await Task.Delay(Hang ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(10), ct);
            return "Alice";
        }

        public async Task<Profile> GetAsync(int id, CancellationToken ct) => new(await GetNameAsync(id, ct));
    }

    /// <summary>An orders service that fails its first <see cref="FailuresBeforeSuccess"/> calls with an HttpRequestException.</summary>
    private sealed class OrdersService
    {
        private int _calls;

        public int FailuresBeforeSuccess { get; init; }
        public int Calls => Volatile.Read(ref _calls);

        public async Task<string> GetAsync(int id, CancellationToken ct)
        {
            await Task.Delay(5, ct);
            if (Interlocked.Increment(ref _calls) <= FailuresBeforeSuccess) throw new HttpRequestException("orders service answered 503");
            return "Order: 5";
        }

        public Task<int> CountAsync(int id, CancellationToken ct) => Task.FromResult(5);
    }

    private sealed class RecommendationService
    {
        public readonly InvalidOperationException Down = new("recommendations are down");

        public async Task<Recs> GetAsync(int id, CancellationToken ct)
        {
            await Task.Delay(5, ct);
            throw Down;
        }
    }

    /// <summary>Search shards that record how many of them run at once; <see cref="Gate"/> holds every search until opened.</summary>
    private sealed class Shards
    {
        private int _running;
        private int _maxRunning;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int MaxRunning => Volatile.Read(ref _maxRunning);

        public Shard this[int index] => new(this, index + 1);

        public sealed class Shard(Shards shards, int number)
        {
            public async Task<string> SearchAsync(string query, CancellationToken ct)
            {
                var running = Interlocked.Increment(ref shards._running);
                int max;
                while (running > (max = Volatile.Read(ref shards._maxRunning)) && Interlocked.CompareExchange(ref shards._maxRunning, running, max) != max) { }
                try
                {
                    await shards.Gate.Task.WaitAsync(ct);
                    await Task.Delay(30, ct);
                    return $"shard-{number}: {query}";
                }
                finally
                {
                    Interlocked.Decrement(ref shards._running);
                }
            }
        }
    }

    private sealed class Metrics
    {
        public ConcurrentQueue<string?> WastedBecauseOf { get; } = new();

        public void Wasted(string? fetcher) => WastedBecauseOf.Enqueue(fetcher);
    }

    private readonly ProfileService profiles = new();
    private readonly OrdersService orders = new();

    [Fact]
    public async Task The_fetch_forms_must_compile_untyped_and_join_their_parts_in_declared_order()
    {
        var system = Sys;
        // snippet:begin fetch-forms
        var forms = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))                          // the key and the token
            .Fetch("orders", context => orders.CountAsync(context.Key, context.CancellationToken)) // a FetchContext<int>
            .Fetch("badge", (_, _) => Task.FromResult("gold"))                                     // neither
            .Build();                                                                              // AggregationDefinition<int, string>

        string text = await system.ActorOf(AggregatorActor.Props(forms)).AggregateAsync<int, string>(1); // "Alice | 5 | gold"
        // snippet:end

        Assert.Equal("Alice | 5 | gold", text);
        Assert.IsType<AggregationDefinition<int, string>>(forms);
    }

    [Fact]
    public async Task Combine_must_give_a_typed_result_from_the_parts_by_name()
    {
        var system = Sys;
        // snippet:begin combine
        var summary = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))
            .Fetch("orders", (id, ct) => orders.CountAsync(id, ct))
            .Combine(parts => new Summary(parts.Get<string>("profile"), parts.Get<int>("orders")))
            .Build(); // AggregationDefinition<int, Summary>

        var aggregator = system.ActorOf(AggregatorActor.Props(summary));
        Summary result = await aggregator.AggregateAsync<int, Summary>(1); // Summary { Name = Alice, Orders = 5 }
        // snippet:end

        Assert.Equal(new Summary("Alice", 5), result);
        Assert.Equal(typeof(Summary), summary.ResultType);
    }

    [Fact]
    public async Task Cancelling_the_token_of_AggregateAsync_must_throw_at_once_and_cancel_every_fetch()
    {
        var probe = new TokenProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("slow", Fetches.Hang<int, string>(probe))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()));

        // snippet:begin cancel-from-code
        async Task<string> DashboardOrNothingAsync(int id, CancellationToken requestAborted) // e.g. HttpContext.RequestAborted
        {
            try
            {
                return await aggregator.AggregateAsync<int, string>(id, cancellationToken: requestAborted);
            }
            catch (OperationCanceledException)
            {
                return "nothing"; // thrown as soon as the token fires, without waiting for the aggregator
            }
        }
        // snippet:end

        using var cancel = new CancellationTokenSource(Ms(200));
        Assert.Equal("nothing", await DashboardOrNothingAsync(1, cancel.Token).WaitAsync(Generous));
        await probe.WhenCancelled(Generous);
        await AwaitQuietAsync(aggregator);
    }

    [Fact]
    public async Task A_concurrency_limit_must_run_at_most_that_many_fetchers_at_once()
    {
        var shards = new Shards();
        shards.Gate.SetResult();
        // snippet:begin concurrency
        var search = Aggregation.For<string>()
            .Fetch("shard-1", (q, ct) => shards[0].SearchAsync(q, ct))
            .Fetch("shard-2", (q, ct) => shards[1].SearchAsync(q, ct))
            .Fetch("shard-3", (q, ct) => shards[2].SearchAsync(q, ct))
            .WithMaxConcurrency(2)
            .Build();
        // snippet:end

        var text = await Sys.ActorOf(AggregatorActor.Props(search)).AggregateAsync<string, string>("actors");

        Assert.Equal("shard-1: actors | shard-2: actors | shard-3: actors", text);
        Assert.Equal(2, shards.MaxRunning);
    }

    [Fact]
    public async Task A_request_over_max_in_flight_must_be_answered_busy_at_once()
    {
        var system = Sys;
        var shards = new Shards();
        var search = Aggregation.For<string>().Fetch("shard-1", (q, ct) => shards[0].SearchAsync(q, ct)).Build();
        // snippet:begin admission-settings
        var settings = AggregationSettings.Create(system).WithMaxInFlight(1); // code wins over actors.aggregation.max-in-flight
        var searcher = system.ActorOf(AggregatorActor.Props(search, settings), "search");
        // snippet:end

        // snippet:begin admission-busy
        async Task<string> SearchOrShedAsync(string query)
        {
            try
            {
                return await searcher.AggregateAsync<string, string>(query);
            }
            catch (AggregationFailedException e) when (e.Reason is RequestRejected { Reason: RequestRejected.Busy })
            {
                return "busy, try again later"; // answered at once: a request over max-in-flight is never queued
            }
        }
        // snippet:end

        var first = SearchOrShedAsync("first");
        await AwaitAssertAsync(async () => Assert.Equal(1, (await StatsAsync(searcher)).InFlight), Generous);
        Assert.Equal("busy, try again later", await SearchOrShedAsync("second").WaitAsync(Generous));
        shards.Gate.SetResult();
        Assert.Equal("shard-1: first", await first.WaitAsync(Generous));

        // snippet:begin admission-stats
        var stats = await searcher.Ask<AggregatorStats>(GetAggregatorStats.Instance); // answered at once, even under load
        Console.WriteLine($"{stats.InFlight} in flight, {stats.Accepted} accepted, {stats.Rejected} rejected");
        // snippet:end

        Assert.Equal((0, 1L, 1L), (stats.InFlight, stats.Accepted, stats.Rejected));
    }

    [Fact]
    public async Task CollectAll_must_combine_the_parts_that_succeeded_and_keep_every_outcome()
    {
        var recs = new RecommendationService();
        // snippet:begin policy-collect-all
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetAsync(id, ct))
            .Fetch("recommendations", (id, ct) => recs.GetAsync(id, ct))
            .WithPolicy(CompletionPolicy.CollectAll) // the partial-success dashboard
            .Combine(parts => new Dashboard(parts.Get<Profile>("profile"),
                parts.TryGet<Recs>("recommendations", out var r) ? r : Recs.None))
            .Build();
        // snippet:end
        var aggregator = Sys.ActorOf(AggregatorActor.Props(dashboard));

        aggregator.Tell(new Aggregate<int>(1));

        var completed = await ExpectMsgAsync<AggregateCompleted<Dashboard>>(Generous);
        Assert.Equal(new Profile("Alice"), completed.Result.Profile);
        Assert.Equal(Recs.None.Items, completed.Result.Recommendations.Items);
        Assert.False(completed.AllSucceeded);
        Assert.Equal([PartStatus.Succeeded, PartStatus.Failed], completed.Parts.Select(p => p.Status));
        AssertSameError(recs.Down, completed.Parts[1].Error);
        Assert.Equal(completed.Result.Profile, (await aggregator.AggregateAsync<int, Dashboard>(2)).Profile);
    }

    private AggregationDefinition<int, string> WithRetriedOrders(OrdersService orders) =>
        Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))
            // snippet:begin retry
            .Fetch("orders", (id, ct) => orders.GetAsync(id, ct),
                new RetryPolicy(3) { InitialBackoff = TimeSpan.FromMilliseconds(50) }.Handle<HttpRequestException>())
            // snippet:end
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();

    [Fact]
    public async Task A_transient_failure_must_be_retried_within_the_fetcher()
    {
        var flaky = new OrdersService { FailuresBeforeSuccess = 2 };

        var text = await Sys.ActorOf(AggregatorActor.Props(WithRetriedOrders(flaky))).AggregateAsync<int, string>(1);

        Assert.Equal("Alice | Order: 5", text);
        Assert.Equal(3, flaky.Calls);
    }

    [Fact]
    public async Task A_spent_retry_budget_must_fail_with_the_attempt_count()
    {
        var down = new OrdersService { FailuresBeforeSuccess = int.MaxValue };

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() =>
            Sys.ActorOf(AggregatorActor.Props(WithRetriedOrders(down))).AggregateAsync<int, string>(1));

        var failed = Assert.IsType<FetcherFailed>(error.Reason);
        Assert.Equal(("orders", 3), (failed.Fetcher, failed.Attempts));
        AssertErrorType<HttpRequestException>(failed.Exception);
        Assert.Equal(3, down.Calls);
    }

    [Fact]
    public async Task An_optional_part_must_fall_back_when_its_service_is_down()
    {
        var recs = new RecommendationService(); // down
        // snippet:begin optional-part
        var dashboard = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetAsync(id, ct)) // required: FailFast as before
            .Fetch("recommendations", (id, ct) => recs.GetAsync(id, ct), new FetchOptions
            {
                Timeout = TimeSpan.FromMilliseconds(300), // its own budget, inside the request's deadline
                Fallback = Fallback.To(Recs.None),        // or Fallback.Omit: go on without the part
            })
            .Combine(parts => new Dashboard(parts.Get<Profile>("profile"), parts.Get<Recs>("recommendations")))
            .Build();
        // snippet:end
        var aggregator = Sys.ActorOf(AggregatorActor.Props(dashboard));

        aggregator.Tell(new Aggregate<int>(1));

        // snippet:begin optional-part-reply
        var reply = await ExpectMsgAsync<AggregateSucceeded<Dashboard>>();
        foreach (var part in reply.FellBack) // PartStatus.FellBack: the fallback value, and why
            Console.WriteLine($"{part.Fetcher} fell back: {part.Error?.Message}"); // recommendations fell back: recommendations are down
        // snippet:end
        // compared by parts: with serialize-messages = on the reply is a copy, and a record compares its list by reference
        Assert.Equal(new Profile("Alice"), reply.Result.Profile);
        Assert.Empty(reply.Result.Recommendations.Items);
        Assert.Equal("recommendations", reply.FellBack.Single().Fetcher);
        AssertSameError(recs.Down, reply.FellBack.Single().Error);
    }

    [Fact]
    public async Task A_hedged_fetch_must_answer_from_whichever_attempt_succeeds_first()
    {
        var search = new SearchService();
        // snippet:begin hedging
        var results = Aggregation.For<string>()
            .Fetch("search", context => search.QueryAsync(context.Key, context.Attempt, context.CancellationToken),
                new FetchOptions { Hedging = HedgingPolicy.After(TimeSpan.FromMilliseconds(50), maxAttempts: 2) })
            .Build();
        // or HedgingPolicy.AtPercentile(0.95): hedge after the latency this aggregator observed at p95
        // snippet:end
        var answer = await Sys.ActorOf(AggregatorActor.Props(results)).AggregateAsync<string, string>("akka");

        Assert.Equal("akka: answered by attempt 2", answer); // attempt 1 hangs until its token fires
        await search.FirstCancelled.WaitAsync(Generous); // the losing attempt's token fired
    }

    /// <summary>A search whose first attempt hangs (its token fires when it loses) and whose later attempts answer at once.</summary>
    private sealed class SearchService
    {
        private readonly TaskCompletionSource _firstCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstCancelled => _firstCancelled.Task;

        public async Task<string> QueryAsync(string query, int attempt, CancellationToken ct)
        {
            if (attempt == 1)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    _firstCancelled.TrySetResult();
                    throw;
                }
            }
            return $"{query}: answered by attempt {attempt}";
        }
    }

    [Fact]
    public async Task A_fetch_must_learn_from_its_context_which_sibling_made_it_pointless()
    {
        var profiles = new ProfileService { Hang = true };
        var metrics = new Metrics();
        var definition = Aggregation.For<int>()
            // snippet:begin cause
            .Fetch("profile", async context =>
            {
                try
                {
                    return await profiles.GetNameAsync(context.Key, context.CancellationToken);
                }
                catch (OperationCanceledException) when (context.Cause?.Kind == CancellationCauseKind.SiblingFailed)
                {
                    metrics.Wasted(context.Cause.Fetcher); // the fetcher whose failure cancelled this one
                    throw;
                }
            })
            // snippet:end
            .Fetch("orders", Fetches.FailAfter<int, string>(Ms(50), new HttpRequestException("orders down")))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

        var error = await Assert.ThrowsAsync<AggregationFailedException>(() =>
            Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(1));

        Assert.Equal("orders", Assert.IsType<FetcherFailed>(error.Reason).Fetcher);
        await AwaitAssertAsync(() => Assert.Equal(["orders"], metrics.WastedBecauseOf), Generous);
    }

    /// <summary>Answers <see cref="GetProfile"/> with Alice's profile.</summary>
    private sealed class ProfileActor : ReceiveActor
    {
        public ProfileActor() => Receive<GetProfile>(_ => Sender.Tell(new Profile("Alice")));
    }

    [Fact]
    public async Task An_ask_fetcher_must_turn_an_actors_reply_into_its_part()
    {
        var profileActor = Sys.ActorOf(Props.Create(() => new ProfileActor()), "profiles");
        var definition = Aggregation.For<int>()
            // snippet:begin ask
            .Ask<Profile, string>("profile", profileActor, id => new GetProfile(id), p => $"Name: {p.Name}")
            // snippet:end
            .Fetch("orders", (id, ct) => orders.GetAsync(id, ct))
            .Build();

        var text = await Sys.ActorOf(AggregatorActor.Props(definition)).AggregateAsync<int, string>(1);

        Assert.Equal("Name: Alice | Order: 5", text);
    }

    [Fact]
    public async Task A_nested_aggregation_must_be_one_part_of_the_outer_one_either_way()
    {
        var system = Sys;
        // snippet:begin nested
        var addresses = system.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("street", (_, _) => Task.FromResult("Main St"))
            .Fetch("city", (_, _) => Task.FromResult("Springfield"))
            .Build()), "addresses");

        var customer = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))
            .Nested<int, string>("address", addresses, id => id) // with what is left of the outer deadline
            .Build();
        // snippet:end
        var byHand = Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))
            // snippet:begin nested-by-hand
            .Fetch("address", context => addresses.AggregateAsync<int, string>(context.Key, context.Remaining, context.CancellationToken))
            // snippet:end
            .Build();

        Assert.Equal("Alice | Main St | Springfield", await system.ActorOf(AggregatorActor.Props(customer)).AggregateAsync<int, string>(1));
        Assert.Equal("Alice | Main St | Springfield", await system.ActorOf(AggregatorActor.Props(byHand)).AggregateAsync<int, string>(1));
    }

    [Fact]
    public async Task A_consistent_hash_pool_must_route_each_cancel_to_the_aggregator_that_runs_its_request()
    {
        var system = Sys;
        var probes = new ConcurrentDictionary<int, TokenProbe>();
        var dashboard = Aggregation.For<int>()
            .Fetch("slow", Fetches.Hang<int, string>(id => probes.GetOrAdd(id, _ => new TokenProbe())))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        // An Akka router works too, if it hashes cancels as it hashes requests (the front needs no hashing).
        var pool = new ConsistentHashingPool(2).WithHashMapping(message => message switch
        {
            Aggregate<int> request => request.RequestId ?? (object)request.Key,
            CancelAggregate cancel => cancel.RequestId, // reaches the aggregator that runs the request
            _ => message,
        });
        var dashboards = system.ActorOf(pool.Props(AggregatorActor.Props(dashboard)), "dashboards");

        for (var id = 1; id <= 8; id++) dashboards.Tell(new Aggregate<int>(id) { RequestId = $"r{id}" });
        foreach (var id in Enumerable.Range(1, 8)) await probes.GetOrAdd(id, _ => new TokenProbe()).WhenStarted(Generous);
        for (var id = 1; id <= 8; id++) dashboards.Tell(new CancelAggregate($"r{id}"));

        var replies = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var reply = await ExpectMsgAsync<AggregateFailed>(Generous);
            Assert.IsType<AggregationCancelled>(reply.Reason);
            replies.Add(reply.RequestId);
        }
        Assert.Equal(Enumerable.Range(1, 8).Select(id => $"r{id}").Order(), replies.Order());
        using var token = new CancellationTokenSource(Ms(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dashboards.AggregateAsync<int, string>(9, cancellationToken: token.Token));
        await probes.GetOrAdd(9, _ => new TokenProbe()).WhenCancelled(Generous);
    }

    [Fact]
    public void Settings_given_in_code_must_copy_the_configured_ones()
    {
        var system = Sys;
        // snippet:begin settings-in-code
        var settings = AggregationSettings.Create(system) // actors.aggregation from the system's configuration
            .WithDefaultTimeout(TimeSpan.FromSeconds(2))
            .WithRejectionLogInterval(TimeSpan.FromMinutes(1));
        // snippet:end

        Assert.Equal(TimeSpan.FromSeconds(2), settings.DefaultTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.RejectionLogInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.AbandonedFetchGrace); // from this spec's HOCON
        Assert.Equal(10000, settings.MaxInFlight);
    }

    [Fact]
    public void The_READMEs_HOCON_example_must_parse_to_the_settings_it_describes()
    {
        var root = DocSnippets.RepositoryRoot();
        var hocon = Assert.Single(DocSnippets.CodeBlocks(root, "src/Actors.Aggregation/README.md"), b => b.Language == "hocon");

        var settings = AggregationSettings.Create(ConfigurationFactory.ParseString(hocon.Text).GetConfig(AggregationSettings.ConfigPath));

        Assert.Equal(TimeSpan.FromSeconds(2), settings.DefaultTimeout);
        Assert.Equal(500, settings.MaxInFlight);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.AbandonedFetchGrace);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.RejectionLogInterval);
    }

    [Fact]
    public async Task The_leak_check_must_pass_once_the_request_is_over()
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Aggregation.For<int>()
            .Fetch("profile", (id, ct) => profiles.GetNameAsync(id, ct))
            .Build()));

        // snippet:begin leak-check
        aggregator.Tell(new Aggregate<int>(1) { RequestId = "r-1" });
        await ExpectMsgAsync<AggregateSucceeded<string>>();
        await AggregationAssert.NoLeaksAsync(aggregator);                          // waits for quiet, or throws
        await AggregationAssert.NoLeaksAsync(aggregator, TimeSpan.FromSeconds(1)); // with your own timeout
        // snippet:end

        var report = await aggregator.Ask<LeakReport>(GetLeakReport.Instance, Generous);
        Assert.True(report.IsQuiet, report.Describe());
    }
}
