using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>
/// An immutable, validated aggregation: named fetchers in declared order, how their parts combine, the completion policy,
/// the concurrency limit and the default deadline. Build one with <see cref="Aggregation.For{TKey}"/> and run it with
/// <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?)"/>.
/// A definition holds no state of its own, so one instance may serve any number of aggregators.
/// </summary>
/// <typeparam name="TKey">The request key.</typeparam>
/// <typeparam name="TResult">The combined result.</typeparam>
public sealed class AggregationDefinition<TKey, TResult> : AggregationDefinition<TKey>
{
    private AggregationDefinition(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult> combine) : base(draft) => Combine = combine;

    /// <inheritdoc />
    public override Type ResultType => typeof(TResult);

    /// <inheritdoc />
    public override AggregationDefinition<TKey, TResult> WithTimeout(TimeSpan timeout) => Create(Draft with { Timeout = timeout }, Combine);

    internal Func<AggregationParts, TResult> Combine { get; }

    internal override Props AggregatorProps(AggregationSettings? settings, FaultInjection? faults) =>
        Props.CreateBy(new AggregatorActor<TKey, TResult>.Producer(this, settings, faults));

    internal static AggregationDefinition<TKey, TResult> Create(DefinitionDraft<TKey> draft, Func<AggregationParts, TResult>? combine)
    {
        Validate(draft);
        if (combine is null) throw new ArgumentException("Combine was given a null function.", nameof(combine));
        return new AggregationDefinition<TKey, TResult>(draft, combine);
    }
}
