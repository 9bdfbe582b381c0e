using Actors.Aggregation.Reliability.Tests.Support;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Event;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Reliability.Tests;

/// <summary>
/// Pins an Akka.NET behaviour (still there in 1.5.75) the dead-letter checks must know about, with plain actors only (no library code).
/// An actor watched by exactly one watcher keeps that watcher in its single "watched by" slot after the watcher unwatches
/// it (<c>DefaultActorState.RemoveWatchedBy</c> does nothing), so when the watchee dies later it sends a
/// <see cref="DeathWatchNotification"/> to the long-gone watcher: a dead letter. With two or more watchers the state is a
/// full one and unwatching works. For us: a requester whose only watcher was a (now stopped) coordinator makes such a dead
/// letter when it dies after its reply. If this spec starts failing, Akka fixed it: drop the matching filter in
/// <see cref="DeadLetterLog"/>.
/// </summary>
public sealed class AkkaDeathWatchSpecs(ITestOutputHelper output) : ReliabilitySpec(output)
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public async Task A_watchee_with_one_former_watcher_notifies_it_after_it_unwatched(int watchers, bool deadLetterExpected)
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters.Ref, typeof(AllDeadLetters));
        var watchee = Sys.ActorOf(Props.Create(() => new Idle()), "watchee");
        var formerWatcher = Sys.ActorOf(Props.Create(() => new Watcher(watchee)), "former-watcher");
        var others = Enumerable.Range(1, watchers - 1).Select(i => Sys.ActorOf(Props.Create(() => new Watcher(watchee)), $"watcher-{i}")).ToList();
        await formerWatcher.Ask<string>("ready", Generous);
        foreach (var other in others) await other.Ask<string>("ready", Generous);

        Watch(formerWatcher);
        Sys.Stop(formerWatcher); // stopping unwatches everything it watched
        await ExpectTerminatedAsync(formerWatcher, Generous);
        Watch(watchee);
        Sys.Stop(watchee);
        await ExpectTerminatedAsync(watchee, Generous);

        var notified = false;
        while (await deadLetters.ReceiveOneAsync(Ms(500)) is AllDeadLetters letter)
            if (letter.Message is DeathWatchNotification && letter.Sender.Path.Name == "former-watcher") notified = true;
        Assert.Equal(deadLetterExpected, notified);
    }

    private sealed class Idle : ReceiveActor;

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef watchee)
        {
            Context.Watch(watchee);
            Receive<string>(_ => Sender.Tell("ready"));
        }
    }
}
