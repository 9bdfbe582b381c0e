using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Event;

namespace Actors.Aggregation.Reliability.Tests.Support;

/// <summary>Records every dead letter (suppressed ones included) of a system, so a check can ask which involved a given subtree.</summary>
public sealed class DeadLetterLog
{
    /// <summary>Each letter with its sender's and recipient's paths, rendered once: a long property run checks every letter once per scenario.</summary>
    private readonly ConcurrentQueue<(AllDeadLetters Letter, string? Sender, string? Recipient)> _letters = new();
    private readonly IActorRef _recorder;

    public DeadLetterLog(ActorSystem system)
    {
        _recorder = system.ActorOf(Props.Create(() => new Recorder(_letters)), "dead-letter-log");
        system.EventStream.Subscribe(_recorder, typeof(AllDeadLetters));
    }

    public int Count => _letters.Count;

    /// <summary>Dead letters sent by or to any actor under one of <paramref name="paths"/>, after every letter published so far was recorded.</summary>
    public async Task<IReadOnlyList<AllDeadLetters>> InvolvingAsync(IEnumerable<ActorPath> paths)
    {
        await _recorder.Ask<Flushed>(Flush.Instance, TimeSpan.FromSeconds(10));
        var prefixes = paths.Select(p => p.ToStringWithoutAddress()).ToArray();
        return _letters.Where(l => prefixes.Any(prefix => Involves(l.Sender, prefix) || Involves(l.Recipient, prefix))).Select(l => l.Letter).ToList();
    }

    /// <summary>
    /// The one dead letter that is Akka's, not ours (pinned by <c>AkkaDeathWatchSpecs</c>): a requester that was watched by
    /// one coordinator only still notifies it when the requester dies after the coordinator stopped and unwatched it.
    /// </summary>
    public static bool IsAkkaFormerWatcherNotification(AllDeadLetters letter, IEnumerable<IActorRef> requesters) =>
        letter.Message is DeathWatchNotification notification && requesters.Contains(notification.Actor);

    private static bool Involves(string? path, string prefix) =>
        path is not null && path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/');

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed class Flushed
    {
        public static readonly Flushed Instance = new();
    }

    private sealed class Recorder(ConcurrentQueue<(AllDeadLetters, string?, string?)> letters) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is AllDeadLetters letter)
                letters.Enqueue((letter, letter.Sender?.Path.ToStringWithoutAddress(), letter.Recipient?.Path.ToStringWithoutAddress()));
            else if (message is Flush) Sender.Tell(Flushed.Instance);
        }
    }
}
