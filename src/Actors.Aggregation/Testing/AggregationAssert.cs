using System.Diagnostics;
using Akka.Actor;

namespace Actors.Aggregation.Testing;

/// <summary>
/// Checks for your own tests, with any test framework: the goleak of this library (a namespace of its own, as
/// Akka.TestKit and Polly.Testing keep their helpers apart from the runtime API). Call
/// <see cref="NoLeaksAsync"/> at the end of a spec, once every request you made has been answered.
/// </summary>
/// <example>
/// <code>
/// aggregator.Tell(new Aggregate&lt;int&gt;(1));
/// await ExpectMsgAsync&lt;AggregateSucceeded&lt;string&gt;&gt;();
/// await AggregationAssert.NoLeaksAsync(aggregator); // throws AggregationLeakException naming what still runs
/// </code>
/// </example>
public static class AggregationAssert
{
    /// <summary>How long <see cref="NoLeaksAsync"/> waits for quiet when no timeout is given: 5 s.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan AnswerMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Waits until <paramref name="aggregator"/> has nothing in flight, no fetcher actor alive and no fetch still running
    /// after its token fired (<see cref="LeakReport.IsQuiet"/>), polling <see cref="GetLeakReport"/>. Waiting matters: a
    /// request's actors stop just after its reply, and a cancelled fetch needs a moment to notice its token.
    /// A fetch that ignores its token and outlasts <paramref name="timeout"/> is a leak too: nothing can stop it.
    /// </summary>
    /// <param name="aggregator">An aggregator made with <see cref="AggregatorActor.Props{TKey}(AggregationDefinition{TKey}, AggregationSettings?)"/>.</param>
    /// <param name="timeout">How long to wait for quiet; <see cref="DefaultTimeout"/> when null.</param>
    /// <param name="cancellationToken">Stops waiting (throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="AggregationLeakException">Still not quiet after <paramref name="timeout"/>; the message names the
    /// requests in flight, their live fetchers and the fetches still running.</exception>
    /// <exception cref="TimeoutException">The aggregator did not answer <see cref="GetLeakReport"/> (it is not running).</exception>
    public static async Task NoLeaksAsync(IActorRef aggregator, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(aggregator);
        var wait = timeout ?? DefaultTimeout;
        if (wait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        var started = Stopwatch.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var report = await ReportAsync(aggregator, wait - Stopwatch.GetElapsedTime(started) + AnswerMargin, cancellationToken)
                .ConfigureAwait(false);
            if (report.IsQuiet) return;
            var left = wait - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) throw new AggregationLeakException(aggregator.Path.ToString(), wait, report);
            await Task.Delay(poll < left ? poll : left, cancellationToken).ConfigureAwait(false);
            if (poll < MaxPollInterval) poll *= 2;
        }
    }

    private static async Task<LeakReport> ReportAsync(IActorRef aggregator, TimeSpan answerWithin, CancellationToken cancellationToken)
    {
        try
        {
            return await aggregator.Ask<LeakReport>(GetLeakReport.Instance, answerWithin, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new TimeoutException($"{aggregator.Path} did not answer GetLeakReport within {answerWithin}: is it an aggregator, and running?", e);
        }
    }
}
