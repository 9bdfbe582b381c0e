namespace Actors.Aggregation;

/// <summary>
/// The node of the actor an <c>Ask</c> fetcher (with <c>failOnUnreachable</c>) was talking to became unreachable before
/// the target replied. The target may still be alive and answer later; its answer is then dropped.
/// </summary>
/// <param name="message">Names the fetcher, the target and its node.</param>
public sealed class AskTargetUnreachableException(string message) : Exception(message);
