using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Actors.Aggregation;

/// <summary>
/// The mailbox of the per-request actors (coordinators and fetchers). Akka's default unbounded mailbox is a
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> whose first segment holds 32 envelopes (about 1 KB) from
/// the actor's first message; a fetcher receives one or two messages in its life and a coordinator a few per part. This one
/// allocates one small node per message: an intrusive multi-producer, single-consumer linked queue (Vyukov's), lock-free and,
/// like the default, FIFO per sender. Unbounded, so it meets the same requirements as the default mailbox.
/// Measured in the benchmark's FINDINGS.md: about 1 KB less allocated per request and 2.8 KB less retained per request in
/// flight at fan-out 2.
/// </summary>
internal sealed class RequestMailbox : MailboxType, IProducesMessageQueue<RequestMessageQueue>
{
    /// <summary>The mailbox id, in the actor system's configuration once an aggregator has started there.</summary>
    public const string Id = "aggregation.request-mailbox";

    private static readonly Config Definition = ConfigurationFactory.ParseString(
        $"{Id}.mailbox-type = \"{typeof(RequestMailbox).FullName}, {typeof(RequestMailbox).Assembly.GetName().Name}\"");

    private static readonly ConditionalWeakTable<ActorSystem, object> Registered = new();

    private static readonly Deploy RequestDeploy = Deploy.None.WithMailbox(Id);

    /// <summary>Akka creates the mailbox type from configuration, with this signature.</summary>
    public RequestMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    /// <inheritdoc />
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new RequestMessageQueue();

    /// <summary>
    /// Puts the mailbox's id into <paramref name="system"/>'s configuration (as a top-level fallback, the way Akka's own
    /// extensions add theirs), once per system: Akka resolves a mailbox id only from there. The aggregator calls it before it
    /// creates its first coordinator. A host that sets <see cref="Id"/> itself keeps its own definition.
    /// </summary>
    public static void Register(ActorSystem system)
    {
        if (Registered.TryGetValue(system, out _)) return;
        lock (Registered)
        {
            if (Registered.TryGetValue(system, out _)) return;
            if (!system.Settings.Config.HasPath(Id)) system.Settings.InjectTopLevelFallback(Definition);
            Registered.Add(system, Definition);
        }
    }

    /// <summary>Props of a per-request actor made by <paramref name="producer"/>, with this mailbox.</summary>
    public static Props Props(IIndirectActorProducer producer) => new RequestProps(producer);

    /// <summary>
    /// <c>Props.CreateBy(producer).WithMailbox(Id)</c> without copying the deployment per actor: the deployment with the
    /// mailbox is one shared instance. Akka copies it (as a plain <see cref="Akka.Actor.Props"/>) when a deployment in
    /// configuration overrides it, so a host can still give these actors another mailbox or dispatcher by path.
    /// </summary>
    private sealed class RequestProps : Props
    {
        public RequestProps(IIndirectActorProducer producer) : base(CreateBy(producer)) => Deploy = RequestDeploy;
    }
}

/// <summary>
/// The queue of <see cref="RequestMailbox"/>: producers swap their node in at the head with one atomic exchange and link the
/// previous head to it; the one consumer (the actor's mailbox run) walks from its stub. The count is raised before the link,
/// so a consumer that sees a message counted but not yet linked waits the few instructions until it is.
/// </summary>
internal sealed class RequestMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private sealed class Node
    {
        public Envelope Envelope;
        public Node? Next;
    }

    private Node _head; // producers swap themselves in here
    private Node _tail; // the consumer's stub: the next message is _tail.Next
    private int _count;

    public RequestMessageQueue() => _head = _tail = new Node();

    /// <inheritdoc />
    public bool HasMessages => Volatile.Read(ref _count) > 0;

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        var node = new Node { Envelope = envelope };
        Interlocked.Increment(ref _count);
        var previous = Interlocked.Exchange(ref _head, node);
        Volatile.Write(ref previous.Next, node);
    }

    /// <inheritdoc />
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
        next.Envelope = default; // the node becomes the stub: it must not keep the message alive
        _tail = next;
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <inheritdoc />
    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
