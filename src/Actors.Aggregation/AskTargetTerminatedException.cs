namespace Actors.Aggregation;

/// <summary>The actor an <c>Ask</c> fetcher was talking to terminated before it replied.</summary>
/// <param name="message">Names the fetcher and the target.</param>
public sealed class AskTargetTerminatedException(string message) : Exception(message);
