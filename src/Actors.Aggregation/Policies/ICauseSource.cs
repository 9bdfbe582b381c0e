namespace Actors.Aggregation;

/// <summary>Whoever can say why a fetch's token fired: the request's scope, or a fetcher whose own token fired first.</summary>
internal interface ICauseSource
{
    CancellationCause? Cause { get; }
}
