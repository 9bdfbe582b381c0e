using System.Diagnostics;
using Actors.Aggregation.Benchmarks.Workloads;
using Akka.Actor;

namespace Actors.Aggregation.Benchmarks.Approaches;

/// <summary>
/// The floor: what a careful .NET developer writes without actors. errgroup's shape in Tasks: a linked
/// <see cref="CancellationTokenSource"/> per request (linked to the owner's stopping token: cancellation), <c>CancelAfter</c>
/// (the deadline), the first failure cancels the source (fail fast) and is the reported cause, <see cref="Task.WhenAll{TResult}(Task{TResult}[])"/>
/// waits, and the reply is told to the requester.
/// </summary>
public sealed class FloorApproach : IApproach
{
    private readonly Workload _workload;
    private readonly CancellationTokenSource _stopping = new();

    public FloorApproach(Workload workload) => _workload = workload;

    public void Send(Aggregate<int> request, IActorRef replyTo) => _ = RunAsync(request.Key, request.RequestId!, replyTo);

    private async Task RunAsync(int key, string requestId, IActorRef replyTo)
    {
        var started = Stopwatch.GetTimestamp();
        var timeout = _workload.Timeout;
        using var group = new ErrGroup(_stopping.Token, timeout);
        var fetches = _workload.Fetches;
        var tasks = new Task<string>[fetches.Length];
        for (var i = 0; i < fetches.Length; i++)
        {
            Task<string> task;
            try
            {
                task = fetches[i](key, group.Token);
            }
            catch (Exception e)
            {
                task = Task.FromException<string>(e);
            }
            // A part that is already there needs no guard; anything else reports its failure to the group.
            tasks[i] = task.IsCompletedSuccessfully ? task : group.Guard(task, i);
        }

        IAggregateReply reply;
        try
        {
            var parts = await Task.WhenAll(tasks).ConfigureAwait(false);
            reply = new AggregateSucceeded<string>(requestId, string.Join(" | ", parts), Stopwatch.GetElapsedTime(started));
        }
        catch (Exception)
        {
            AggregationFailure reason = group.FirstFailure is { } first
                ? new FetcherFailed(_workload.Names[group.FirstIndex], first)
                : _stopping.IsCancellationRequested
                    ? new AggregationCancelled("stopped")
                    : new DeadlineExceeded(timeout, Pending(tasks));
            reply = new AggregateFailed(requestId, reason) { Elapsed = Stopwatch.GetElapsedTime(started) };
        }
        replyTo.Tell(reply);
    }

    private string[] Pending(Task<string>[] tasks) =>
        tasks.Select((t, i) => t.IsCompletedSuccessfully ? null : _workload.Names[i]).OfType<string>().ToArray();
}
