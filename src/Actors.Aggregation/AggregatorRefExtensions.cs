using Akka.Actor;

namespace Actors.Aggregation;

/// <summary>Calling an aggregator from code that is not an actor.</summary>
public static class AggregatorRefExtensions
{
    /// <summary>How long an Ask waits beyond the request's own deadline before it concludes the aggregator is not running.</summary>
    private static readonly TimeSpan NoReplyMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs one request on <paramref name="aggregator"/> (an Ask) and returns its combined result (under
    /// <see cref="CompletionPolicy.CollectAll"/>, the combination of the parts that succeeded; call
    /// <see cref="AggregateReplyAsync{TKey}"/> to see every part's outcome, or which optional parts fell back). It waits for
    /// the aggregation's own deadline, never for the host's <c>akka.actor.ask-timeout</c>.
    /// Cancelling <paramref name="cancellationToken"/> cancels the request (only this call can: it is the request's
    /// requester), so every fetch's token fires, and throws <see cref="OperationCanceledException"/> at once, without
    /// waiting for the aggregator to confirm.
    /// </summary>
    /// <param name="aggregator">An aggregator made with <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?)"/>.</param>
    /// <param name="key">The request key.</param>
    /// <param name="timeout">This request's deadline; null uses the definition's. When given, the call also gives up
    /// if no reply comes 5 s after it (the aggregator is not running), with <see cref="AggregationCancelled"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AggregationFailedException">The request failed (or was rejected, or the aggregator is not running);
    /// <see cref="AggregationFailedException.Reason"/> says why.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The aggregator produces another result type than <typeparamref name="TResult"/>.</exception>
    public static async Task<TResult> AggregateAsync<TKey, TResult>(
        this IActorRef aggregator, TKey key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await AggregateReplyAsync(aggregator, key, timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            AggregateSucceeded<TResult> succeeded => succeeded.Result,
            AggregateCompleted<TResult> completed => completed.Result,
            AggregateFailed failed => throw new AggregationFailedException(failed.Reason),
            _ => throw new InvalidOperationException(
                $"{aggregator.Path} answered with {reply.GetType().Name}, not AggregateSucceeded<{typeof(TResult).Name}>: check the TResult type argument."),
        };
    }

    /// <summary>
    /// Runs one request on <paramref name="aggregator"/> (an Ask) and returns its reply as it came:
    /// <see cref="AggregateSucceeded{TResult}"/> (with the parts that fell back), <see cref="AggregateCompleted{TResult}"/>
    /// (every part's outcome) or <see cref="AggregateFailed"/> (the first cause; a failure is an answer here, not an
    /// exception). Waiting and cancelling work as in <see cref="AggregateAsync{TKey, TResult}"/>; an aggregator that is not
    /// running is answered <see cref="AggregationCancelled"/>.
    /// </summary>
    /// <param name="aggregator">An aggregator made with <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?)"/>.</param>
    /// <param name="key">The request key.</param>
    /// <param name="timeout">This request's deadline; null uses the definition's.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public static async Task<IAggregateReply> AggregateReplyAsync<TKey>(
        this IActorRef aggregator, TKey key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aggregator);
        cancellationToken.ThrowIfCancellationRequested();
        var requestId = Guid.NewGuid().ToString("N");
        if (IsStoppedLocalActor(aggregator))
            return new AggregateFailed(requestId, new AggregationCancelled($"the aggregator {aggregator.Path} is not running"));

        var request = new Aggregate<TKey>(key) { RequestId = requestId, Timeout = timeout };
        // Infinite, not null: null would mean the host's ask-timeout, which knows nothing of this aggregation's deadline.
        // An invalid timeout is sent as it is, for the aggregator to reject with its reason.
        var askTimeout = timeout is { } t && AggregationSettings.InvalidTimeout(t) is null ? t + NoReplyMargin : Timeout.InfiniteTimeSpan;
        IActorRef? requester = null;
        // The Ask itself is not bound to the token: cancelling it would unregister the requester before the aggregator's
        // confirming reply, a dead letter. The request is cancelled with a message instead, from the requester itself.
        var ask = aggregator.Ask<IAggregateReply>(replyTo => { requester = replyTo; return request; }, askTimeout, CancellationToken.None);

        if (cancellationToken.CanBeCanceled && !ask.IsCompleted)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var cancelSent = false;
            await using (cancellationToken.Register(() =>
                         {
                             // A reply already in wins; otherwise the request is cancelled now, not after a thread hop.
                             if (!ask.IsCompleted)
                             {
                                 Volatile.Write(ref cancelSent, true);
                                 aggregator.Tell(new CancelAggregate(requestId), requester);
                             }
                             cancelled.TrySetResult();
                         }))
            {
                await Task.WhenAny(ask, cancelled.Task).ConfigureAwait(false);
            }
            if (Volatile.Read(ref cancelSent))
            {
                // The aggregator's confirmation still comes to the Ask, which then leaves the temporary actors; observe it.
                _ = ask.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                var confirmed = ask.IsCompletedSuccessfully && ask.Result is AggregateFailed failed ? new AggregationFailedException(failed.Reason) : null;
                throw new OperationCanceledException($"Aggregation {requestId} was cancelled by the caller.", confirmed, cancellationToken);
            }
        }

        try
        {
            return await ask.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return new AggregateFailed(requestId, new AggregationCancelled(
                $"no reply from {aggregator.Path} within {askTimeout}; is the aggregator running?"));
        }
    }

    /// <summary>
    /// A local aggregator known to have stopped gets no request: a message to it would go to dead letters and the call would
    /// wait for nothing. A cheap read of the local cell (a child's <c>LocalActorRef</c> or a top-level actor's
    /// <c>RepointableActorRef</c>); Akka marks it obsolete in favour of DeathWatch, which would cost two system messages per
    /// call. A ref on another node is never known dead here.
    /// </summary>
    private static bool IsStoppedLocalActor(IActorRef actor)
    {
#pragma warning disable CS0618
        return actor is ActorRefWithCell and IInternalActorRef { IsTerminated: true };
#pragma warning restore CS0618
    }
}
