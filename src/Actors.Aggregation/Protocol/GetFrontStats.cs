namespace Actors.Aggregation;

/// <summary>Asks an aggregator front for its <see cref="FrontStats"/>; answered at once.</summary>
public sealed class GetFrontStats : IWireMessage
{
    /// <summary>The only instance.</summary>
    public static GetFrontStats Instance { get; } = new();

    private GetFrontStats() { }
}
