using Actors.Aggregation;
using Actors.Dashboard.Services;

namespace Actors.Dashboard;

// The namespace Actors.Aggregation would shadow the type of the same name inside namespace Actors.Dashboard.
using Aggregation = Actors.Aggregation.Aggregation;

/// <summary>
/// The kata's DashboardAggregator: the registry key of the host's aggregator (<c>IRequiredActor&lt;DashboardAggregator&gt;</c>),
/// and its definition: the profile and orders services fetched in parallel, fail fast, "profile | orders".
/// </summary>
public sealed class DashboardAggregator
{
    private DashboardAggregator() { }

    /// <summary>The fetcher names, in declared order: the order of the parts in the result.</summary>
    public static readonly IReadOnlyList<string> Fetchers = ["profile", "orders"];

    /// <summary>What an optional <c>orders</c> part stands for when it fell back.</summary>
    public const string OrdersFallback = "Orders: unavailable";

    /// <summary>
    /// The aggregation: <c>profile</c> and <c>orders</c> over HTTP. No <c>WithTimeout</c>: the deadline comes from
    /// <c>Aggregation:Dashboard:Timeout</c> (config/appsettings.json), else the HOCON default. With
    /// <paramref name="orders"/> optional, a failing or timed-out orders fetch gives <see cref="OrdersFallback"/> instead.
    /// </summary>
    public static AggregationDefinition<int, string> Definition(DownstreamClient client, DashboardOrdersPart? orders = null) =>
        Aggregation.For<int>()
            .Fetch(Fetchers[0], (int id, CancellationToken ct) => client.GetAsync(Fetchers[0], id, ct))
            .Fetch(Fetchers[1], (int id, CancellationToken ct) => client.GetAsync(Fetchers[1], id, ct), new FetchOptions
            {
                Timeout = orders?.Timeout,
                Fallback = orders is { Optional: true } ? Fallback.To(OrdersFallback) : null,
            })
            .Build();
}
