using Akka.Actor;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>An "aggregator" that never answers: it swallows every message, and reports the first one it got.</summary>
internal sealed class BlackHole(TaskCompletionSource? received = null) : UntypedActor
{
    protected override void OnReceive(object message) => received?.TrySetResult();
}
