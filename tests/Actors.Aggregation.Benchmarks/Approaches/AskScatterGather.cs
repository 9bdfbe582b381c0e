using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;

namespace Actors.Aggregation.Benchmarks.Approaches;

/// <summary>
/// Ask-based scatter-gather: one long-lived actor that, per request, Asks one long-lived fetcher actor per fetcher,
/// <c>Task.WhenAll</c>s the Asks and pipes the reply to the requester. Same semantics as the others: the request's
/// linked token source is cancelled by the first failure (fail fast), by <c>CancelAfter</c> (the deadline) and by the
/// actor stopping (cancellation); the fetch's token travels in the message.
/// </summary>
public sealed class AskScatterGather : ReceiveActor
{
    private readonly Workload _workload;
    private readonly IActorRef[] _fetchers;
    private readonly CancellationTokenSource _stopping = new();

    public AskScatterGather(Workload workload)
    {
        _workload = workload;
        _fetchers = new IActorRef[workload.FanOut];
        for (var i = 0; i < workload.FanOut; i++)
        {
            var fetch = workload.Fetches[i];
            _fetchers[i] = Context.ActorOf(Akka.Actor.Props.Create(() => new AskFetcher(fetch)), workload.Names[i]);
        }

        Receive<Aggregate<int>>(request =>
        {
            var replyTo = Sender;
            GatherAsync(request.Key, request.RequestId!).PipeTo(replyTo, Self);
        });
    }

    public static Props Props(Workload workload) => Akka.Actor.Props.Create(() => new AskScatterGather(workload));

    private async Task<IAggregateReply> GatherAsync(int key, string requestId)
    {
        var started = Stopwatch.GetTimestamp();
        using var group = new ErrGroup(_stopping.Token, _workload.Timeout);
        var asks = new Task<string>[_fetchers.Length];
        // The group's CancelAfter is the deadline and cancels the Asks; the Ask's own timeout is only a backstop behind it.
        var backstop = _workload.Timeout + TimeSpan.FromSeconds(1);
        for (var i = 0; i < _fetchers.Length; i++)
            asks[i] = group.Guard(_fetchers[i].Ask<string>(new AskFetcher.Fetch(key, group.Token), backstop, group.Token), i);
        try
        {
            var parts = await Task.WhenAll(asks).ConfigureAwait(false);
            return new AggregateSucceeded<string>(requestId, string.Join(" | ", parts), Stopwatch.GetElapsedTime(started));
        }
        catch (Exception)
        {
            AggregationFailure reason = group.FirstFailure is { } cause
                ? new FetcherFailed(_workload.Names[group.FirstIndex], cause)
                : _stopping.IsCancellationRequested
                    ? new AggregationCancelled("stopped")
                    : new DeadlineExceeded(_workload.Timeout, _workload.Names.Where((_, i) => !asks[i].IsCompletedSuccessfully).ToArray());
            return new AggregateFailed(requestId, reason) { Elapsed = Stopwatch.GetElapsedTime(started) };
        }
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }
}

/// <summary>A long-lived fetcher actor: runs the fetch with the token it is given and pipes the part back to the asker.</summary>
public sealed class AskFetcher : ReceiveActor
{
    public AskFetcher(Func<int, CancellationToken, Task<string>> fetch)
    {
        Receive<Fetch>(request => fetch(request.Key, request.Token).PipeTo(Sender));
    }

    public sealed record Fetch(int Key, CancellationToken Token);
}
