using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Actors.Aggregation.Benchmarks.Prototypes;

/// <summary>
/// PROTOTYPE, used only for comparison in the benchmark (FINDINGS.md, proposal 1). Akka's default unbounded mailbox is a
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> whose first segment holds 32 envelopes: about 1.1 KB per
/// actor before its first message. A per-request actor (coordinator, fetcher) receives a handful of messages in its life,
/// so this mailbox allocates one small node per message instead: an intrusive multi-producer, single-consumer linked queue
/// (Vyukov's), lock-free, FIFO per producer like the default.
/// Applied to our coordinators and fetchers by deployment configuration only (see <see cref="DeploymentConfig"/>), with no change to the library.
/// </summary>
public sealed class LeanMailbox : MailboxType, IProducesMessageQueue<LeanMessageQueue>
{
    public LeanMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LeanMessageQueue();

    /// <summary>Deployment that gives the per-request children of the aggregator named <paramref name="aggregator"/> the lean mailbox.</summary>
    public static Config DeploymentConfig(string aggregator) => ConfigurationFactory.ParseString($$"""
        lean-mailbox.mailbox-type = "{{typeof(LeanMailbox).AssemblyQualifiedName}}"
        akka.actor.deployment {
          "/{{aggregator}}/*" { mailbox = lean-mailbox }
          "/{{aggregator}}/*/*" { mailbox = lean-mailbox }
        }
        """);
}

public sealed class LeanMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private sealed class Node
    {
        public Envelope Envelope;
        public Node? Next;
    }

    private Node _head; // producers swap themselves in here
    private Node _tail; // the consumer's stub: the next message is _tail.Next
    private int _count;

    public LeanMessageQueue() => _head = _tail = new Node();

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        var node = new Node { Envelope = envelope };
        Interlocked.Increment(ref _count);
        var previous = Interlocked.Exchange(ref _head, node);
        Volatile.Write(ref previous.Next, node);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        var tail = _tail;
        var next = Volatile.Read(ref tail.Next);
        if (next is null)
        {
            if (Volatile.Read(ref _count) == 0)
            {
                envelope = default;
                return false;
            }
            // A producer has counted and swapped the head but not yet linked its node: it is between two instructions.
            var spin = new SpinWait();
            while ((next = Volatile.Read(ref tail.Next)) is null) spin.SpinOnce();
        }
        envelope = next.Envelope;
        next.Envelope = default; // the node becomes the stub; do not keep the message alive
        _tail = next;
        Interlocked.Decrement(ref _count);
        return true;
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
