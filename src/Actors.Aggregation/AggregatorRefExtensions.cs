using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>Calling an aggregator from code that is not an actor.</summary>
public static class AggregatorRefExtensions
{
    /// <summary>How long an Ask waits beyond the request's own deadline before it concludes the aggregator is not running.</summary>
    private static readonly TimeSpan NoReplyMargin = TimeSpan.FromSeconds(5);

    /// <summary>How long a cancelled call waits for the aggregator to confirm that the request was cancelled.</summary>
    private static readonly TimeSpan CancelConfirmation = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs one request on <paramref name="aggregator"/> (an Ask) and returns its combined result (under
    /// <see cref="CompletionPolicy.CollectAll"/>, the combination of the parts that succeeded; ask for
    /// <see cref="AggregateCompleted{TResult}"/> directly to see every part's outcome).
    /// Cancelling <paramref name="cancellationToken"/> sends <see cref="CancelAggregate"/>, so every fetch's token fires,
    /// and then throws <see cref="OperationCanceledException"/> (its inner exception carries the aggregator's answer, when it came).
    /// </summary>
    /// <param name="aggregator">An aggregator made with <see cref="AggregatorActor.Props{TKey, TResult}"/>.</param>
    /// <param name="key">The request key.</param>
    /// <param name="timeout">This request's deadline; null uses the definition's. When given, the call also gives up
    /// if no reply comes 5 s after it (the aggregator is not running), with <see cref="AggregationCancelled"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AggregationFailedException">The request failed; <see cref="AggregationFailedException.Reason"/> says why.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The aggregator produces another result type than <typeparamref name="TResult"/>.</exception>
    public static async Task<TResult> AggregateAsync<TKey, TResult>(
        this IActorRef aggregator, TKey key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aggregator);
        cancellationToken.ThrowIfCancellationRequested();
        var requestId = Guid.NewGuid().ToString("N");
        var request = new Aggregate<TKey>(key) { RequestId = requestId, Timeout = timeout };
        // The Ask itself is not bound to the token: a cancelled Ask would drop the aggregator's confirming reply into dead letters.
        var ask = aggregator.Ask<IAggregateReply>(request, timeout is { } t && t > TimeSpan.Zero ? t + NoReplyMargin : null, CancellationToken.None);

        if (cancellationToken.CanBeCanceled && !ask.IsCompleted)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (cancellationToken.Register(() =>
                         {
                             cancelled.TrySetResult();
                             aggregator.Tell(new CancelAggregate(requestId), ActorRefs.NoSender);
                         }))
            {
                await Task.WhenAny(ask, cancelled.Task).ConfigureAwait(false);
                // Decided by the token, not by which task won: the aggregator's confirmation can beat the signal.
                if (cancelled.Task.IsCompleted)
                {
                    await Task.WhenAny(ask, Task.Delay(CancelConfirmation, CancellationToken.None)).ConfigureAwait(false);
                    if (ask.IsCompletedSuccessfully && ask.Result is AggregateSucceeded<TResult> raced) return raced.Result;
                    if (ask.IsCompletedSuccessfully && ask.Result is AggregateCompleted<TResult> collected) return collected.Result;
                    var confirmed = ask.IsCompletedSuccessfully && ask.Result is AggregateFailed failed
                        ? new AggregationFailedException(failed.Reason)
                        : null;
                    throw new OperationCanceledException($"Aggregation {requestId} was cancelled by the caller.", confirmed, cancellationToken);
                }
            }
        }

        IAggregateReply reply;
        try
        {
            reply = await ask.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new AggregationFailedException(new AggregationCancelled(
                $"no reply from {aggregator.Path} within {timeout!.Value + NoReplyMargin}; is the aggregator running?"));
        }
        return reply switch
        {
            AggregateSucceeded<TResult> succeeded => succeeded.Result,
            AggregateCompleted<TResult> completed => completed.Result,
            AggregateFailed failed => throw new AggregationFailedException(failed.Reason),
            _ => throw new InvalidOperationException(
                $"{aggregator.Path} answered with {reply.GetType().Name}, not AggregateSucceeded<{typeof(TResult).Name}>: check the TResult type argument."),
        };
    }
}
