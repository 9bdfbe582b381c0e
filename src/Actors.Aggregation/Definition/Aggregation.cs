namespace Actors.Aggregation;

/// <summary>
/// Entry point for defining an aggregation: one request key fanned out to several named fetchers,
/// whose parts are combined into one result.
/// </summary>
/// <example>
/// <code>
/// var dashboard = Aggregation.For&lt;int&gt;()
///     .Fetch("profile", (id, ct) =&gt; profiles.GetNameAsync(id, ct))
///     .Fetch("orders", (id, ct) =&gt; orders.GetLatestAsync(id, ct))
///     .WithTimeout(TimeSpan.FromSeconds(1))
///     .Build();
/// var aggregator = system.ActorOf(AggregatorActor.Props(dashboard), "dashboard");
/// </code>
/// </example>
public static class Aggregation
{
    /// <summary>Starts a definition whose requests carry a key of type <typeparamref name="TKey"/> and whose result, until
    /// <c>Combine</c> says otherwise, is the parts' text joined with <c>" | "</c> in declared order.</summary>
    public static AggregationBuilder<TKey, string> For<TKey>() => new(DefinitionDraft<TKey>.Empty, AggregationParts.JoinText);
}
