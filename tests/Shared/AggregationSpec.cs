using System.Diagnostics;
using Actors.Aggregation;
using Akka.Actor;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Tests.Shared;

/// <summary>Base of the TestKit specs: a test actor system with short, test-friendly library settings.</summary>
public abstract class AggregationSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Generous on purpose: the CI machine has 2 noisy cores.</summary>
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Set <c>AGGREGATION_SERIALIZE_MESSAGES=on</c> to run the specs with <c>akka.actor.serialize-messages = on</c>: every
    /// message, local ones too, then goes through its serializer, as it would between nodes (CI runs the core specs so once).
    /// </summary>
    protected static readonly bool SerializeMessages =
        string.Equals(Environment.GetEnvironmentVariable("AGGREGATION_SERIALIZE_MESSAGES"), "on", StringComparison.OrdinalIgnoreCase);

    protected static readonly Config SpecConfig = ConfigurationFactory.ParseString($$"""
        akka.loglevel = INFO
        akka.actor.serialize-messages = {{(SerializeMessages ? "on" : "off")}}
        actors.aggregation.abandoned-fetch-grace = 100ms
        """).WithFallback(AggregationSettings.DefaultConfig());

    protected AggregationSpec(ITestOutputHelper output, Config? config = null, string? systemName = null)
        : base((config ?? Config.Empty).WithFallback(SpecConfig), systemName, output)
    {
    }

    /// <summary>
    /// The exception a reply carries is the one the fetch threw: the very instance on one node, or, with
    /// <see cref="SerializeMessages"/>, its data (type name and message) when the reply went through the wire format (a reply
    /// to an Ask's temporary actor does not).
    /// </summary>
    protected static void AssertSameError(Exception expected, Exception? actual)
    {
        if (SerializeMessages && actual is RemoteException remote)
            Assert.Equal((expected.GetType().FullName, expected.Message), (remote.TypeName, remote.Message));
        else
            Assert.Same(expected, actual);
    }

    /// <summary>The exception is a <typeparamref name="T"/>: itself, or, with <see cref="SerializeMessages"/>, its data after the wire format.</summary>
    protected static void AssertErrorType<T>(Exception? actual) where T : Exception
    {
        if (SerializeMessages && actual is RemoteException remote) Assert.Equal(typeof(T).FullName, remote.TypeName);
        else Assert.IsType<T>(actual);
    }

    /// <summary>True when <paramref name="actual"/> is a <typeparamref name="T"/>, or its data after the wire format.</summary>
    protected static bool IsError<T>(Exception? actual) where T : Exception =>
        actual is T || (actual is RemoteException remote && remote.TypeName == typeof(T).FullName);

    protected static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    protected static double MsSince(long timestamp) => Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds;

    protected static double MsBetween(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>Actors alive under <paramref name="path"/>, found with Identify (no internal access).</summary>
    protected async Task<int> CountActorsAsync(string path)
    {
        var probe = CreateTestProbe();
        Sys.ActorSelection(path).Tell(new Identify(path), probe.Ref);
        var count = 0;
        // Every live actor answers; the selection's answers arrive together, so a short quiet period ends the count.
        while (await TryReceiveIdentity(probe) is { } identity)
            if (identity.Subject is not null) count++;
        return count;
    }

    private static async Task<ActorIdentity?> TryReceiveIdentity(Akka.TestKit.TestProbe probe)
    {
        var message = await probe.ReceiveOneAsync(TimeSpan.FromMilliseconds(300));
        return message as ActorIdentity;
    }

    /// <summary>Subscribes a probe to every dead letter of the test system.</summary>
    protected Akka.TestKit.TestProbe WatchDeadLetters()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(Akka.Event.AllDeadLetters));
        return probe;
    }

    /// <summary>Fails on any dead letter sent by or to the aggregator or its descendants (TestKit's own are ignored).</summary>
    protected static async Task ExpectNoDeadLettersAsync(Akka.TestKit.TestProbe deadLetters, IActorRef aggregator)
    {
        var prefix = aggregator.Path.ToStringWithoutAddress();
        while (await deadLetters.ReceiveOneAsync(TimeSpan.FromMilliseconds(300)) is Akka.Event.AllDeadLetters letter)
        {
            var involved = letter.Sender.Path.ToStringWithoutAddress().StartsWith(prefix, StringComparison.Ordinal)
                || letter.Recipient.Path.ToStringWithoutAddress().StartsWith(prefix, StringComparison.Ordinal);
            Assert.False(involved, $"dead letter: {letter}");
        }
    }

    protected async Task<AggregatorStats> StatsAsync(IActorRef aggregator) =>
        await aggregator.Ask<AggregatorStats>(GetAggregatorStats.Instance, Generous);

    /// <summary>Waits until the aggregator has nothing in flight and no fetcher actor alive.</summary>
    protected Task AwaitQuietAsync(IActorRef aggregator) =>
        AwaitAssertAsync(async () =>
        {
            var stats = await StatsAsync(aggregator);
            Assert.Equal(0, stats.InFlight);
            Assert.Equal(0, stats.LiveFetchers);
        }, Generous, TimeSpan.FromMilliseconds(50));
}
