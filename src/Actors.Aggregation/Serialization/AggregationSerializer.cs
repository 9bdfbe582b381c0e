using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.Serialization;

namespace Actors.Aggregation.Serialization;

/// <summary>
/// The wire format of the library's public messages (<see cref="Aggregate{TKey}"/>, <see cref="CancelAggregate"/>, every
/// reply and failure, stats and leak reports), so they cross Akka.Remote between nodes. Bound in the library's reference
/// configuration (<c>hocon/aggregation.conf</c>) to every one of those messages, with the identifier
/// <see cref="DefaultIdentifier"/>; <c>WithAggregator</c> and <c>WithAggregationSerializer</c> in Actors.Aggregation.Hosting
/// add it to a host.
/// <para>Every payload starts with a format version byte. Keys, parts and results are the user's types and are handed to
/// whatever serializer Akka picks for them, nested with its identifier and manifest. Exceptions cross as data (type name,
/// message, stack trace, inner errors) and arrive as <see cref="RemoteException"/>s. The deadline crosses as the request's
/// budget (<see cref="Aggregate{TKey}.Timeout"/>), never as a clock time.</para>
/// <para>A payload that cannot be read (an unknown manifest or version, a key or result type missing on this node, a
/// corrupt payload) does not tear the connection down: it is logged at Warning, naming the manifest and why, and read as a
/// message the library's actors ignore.</para>
/// </summary>
public sealed class AggregationSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's identifier in <c>akka.actor.serialization-identifiers</c>.</summary>
    public const int DefaultIdentifier = 31415;

    /// <summary>The format version written first in every payload; a reader refuses versions it does not know.</summary>
    public const byte FormatVersion = 1;

    private const string AggregateManifest = "A";
    private const string CancelManifest = "C";
    private const string SucceededManifest = "S";
    private const string FailedManifest = "F";
    private const string CompletedManifest = "P";
    private const string GetStatsManifest = "GS";
    private const string StatsManifest = "ST";
    private const string GetLeakReportManifest = "GL";
    private const string LeakReportManifest = "LR";
    private const string GetFrontStatsManifest = "GF";
    private const string FrontStatsManifest = "FS";

    /// <summary>How deep inner exceptions are followed: enough for any real chain, bounded against cycles and abuse.</summary>
    private const int MaxErrorDepth = 8;

    private ILoggingAdapter? _log;

    /// <summary>Created by Akka's serialization from configuration, while the actor system starts.</summary>
    public AggregationSerializer(ExtendedActorSystem system) : base(system) { }

    // Not in the constructor: serializers are made while the system starts, before its logging can name it.
    private ILoggingAdapter Log => _log ??= Logging.GetLogger(system, typeof(AggregationSerializer));

    /// <inheritdoc />
    public override int Identifier => DefaultIdentifier;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        IAggregateRequest => AggregateManifest,
        CancelAggregate => CancelManifest,
        IAggregateCompleted => CompletedManifest, // before its base, IAggregateSucceeded
        IAggregateSucceeded => SucceededManifest,
        AggregateFailed => FailedManifest,
        GetAggregatorStats => GetStatsManifest,
        AggregatorStats => StatsManifest,
        GetLeakReport => GetLeakReportManifest,
        LeakReport => LeakReportManifest,
        GetFrontStats => GetFrontStatsManifest,
        FrontStats => FrontStatsManifest,
        _ => throw new ArgumentException($"{nameof(AggregationSerializer)} cannot serialize a {o?.GetType().FullName ?? "null"}.", nameof(o)),
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            switch (obj)
            {
                case IAggregateRequest request:
                    WriteType(writer, request.KeyType);
                    WritePayload(writer, request.KeyObject);
                    WriteNullableString(writer, request.RequestId);
                    WriteNullableTimeSpan(writer, request.Timeout);
                    WriteNullableString(writer, request.TraceParent);
                    WriteNullableString(writer, request.TraceState);
                    break;
                case CancelAggregate cancel:
                    WriteNullableString(writer, cancel.RequestId);
                    break;
                case IAggregateCompleted completed:
                    WriteType(writer, completed.ResultType);
                    writer.Write(completed.RequestId);
                    WritePayload(writer, completed.ResultObject);
                    WriteList(writer, completed.Parts, WritePart);
                    writer.Write(completed.Elapsed.Ticks);
                    break;
                case IAggregateSucceeded succeeded:
                    WriteType(writer, succeeded.ResultType);
                    writer.Write(succeeded.RequestId);
                    WritePayload(writer, succeeded.ResultObject);
                    writer.Write(succeeded.Elapsed.Ticks);
                    // Appended, and only when there are any: a payload without fallbacks keeps the first layout byte for byte.
                    if (succeeded.FellBack.Count > 0) WriteList(writer, succeeded.FellBack, WritePart);
                    break;
                case AggregateFailed failed:
                    writer.Write(failed.RequestId);
                    WriteFailure(writer, failed.Reason);
                    writer.Write(failed.Elapsed.Ticks);
                    break;
                case GetAggregatorStats or GetLeakReport or GetFrontStats:
                    break;
                case FrontStats front:
                    writer.Write(front.InFlight);
                    writer.Write(front.Aggregators);
                    writer.Write(front.Forwarded);
                    writer.Write(front.BusyRetries);
                    writer.Write(front.NodeFailures);
                    writer.Write(front.LateReplies);
                    break;
                case AggregatorStats stats:
                    writer.Write(stats.InFlight);
                    writer.Write(stats.LiveFetchers);
                    writer.Write(stats.LingeringFetches);
                    writer.Write(stats.AbandonedFetches);
                    writer.Write(stats.Accepted);
                    writer.Write(stats.Rejected);
                    writer.Write(stats.Coalesced);
                    break;
                case LeakReport report:
                    WriteList(writer, report.InFlight, (w, r) =>
                    {
                        w.Write(r.RequestId);
                        WriteList(w, r.LiveFetchers, (w2, name) => w2.Write(name));
                    });
                    writer.Write(report.LiveFetchers);
                    WriteList(writer, report.LingeringFetches, (w, f) =>
                    {
                        w.Write(f.RequestId);
                        w.Write(f.Fetcher);
                        w.Write(f.SinceTokenFired.Ticks);
                        w.Write(f.Abandoned);
                    });
                    break;
                default:
                    throw new ArgumentException($"{nameof(AggregationSerializer)} cannot serialize a {obj?.GetType().FullName ?? "null"}.", nameof(obj));
            }
        }
        return buffer.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            var version = reader.ReadByte();
            if (version != FormatVersion)
                throw new NotSupportedException($"format version {version} is not known here (this node reads version {FormatVersion})");
            var message = Read(reader, manifest);
            if (reader.BaseStream.Position != bytes.Length)
                throw new InvalidDataException($"{bytes.Length - reader.BaseStream.Position} bytes left over");
            return message;
        }
        catch (Exception e)
        {
            Log.Warning("Actors.Aggregation could not read a message with manifest '{Manifest}' ({Length} bytes): {Error}; it is dropped",
                manifest, bytes.Length, $"{e.GetType().Name}: {Errors.MessageOf(e)}");
            return new UnreadableMessage(manifest, Errors.Describe(e));
        }
    }

    private object Read(BinaryReader reader, string manifest)
    {
        switch (manifest)
        {
            case AggregateManifest:
            {
                var keyType = ReadType(reader);
                var key = ReadPayload(reader);
                var requestId = ReadNullableString(reader);
                var timeout = ReadNullableTimeSpan(reader);
                var traceParent = ReadNullableString(reader);
                var traceState = ReadNullableString(reader);
                return AggregateFactory(keyType)(key, requestId, timeout, traceParent, traceState);
            }
            case CancelManifest:
                return new CancelAggregate(ReadNullableString(reader)!);
            case SucceededManifest:
            {
                var resultType = ReadType(reader);
                var requestId = reader.ReadString();
                var result = ReadPayload(reader);
                var elapsed = TimeSpan.FromTicks(reader.ReadInt64());
                var succeeded = (IAggregateSucceeded)Activator.CreateInstance(typeof(AggregateSucceeded<>).MakeGenericType(resultType), requestId, result, elapsed)!;
                if (reader.BaseStream.Position == reader.BaseStream.Length) return succeeded;
                var fellBack = ReadList(reader, ReadPart);
                return succeeded.WithFellBack(fellBack);
            }
            case FailedManifest:
            {
                var requestId = reader.ReadString();
                var reason = ReadFailure(reader);
                return new AggregateFailed(requestId, reason) { Elapsed = TimeSpan.FromTicks(reader.ReadInt64()) };
            }
            case CompletedManifest:
            {
                var resultType = ReadType(reader);
                var requestId = reader.ReadString();
                var result = ReadPayload(reader);
                var parts = ReadList(reader, ReadPart);
                var elapsed = TimeSpan.FromTicks(reader.ReadInt64());
                return Activator.CreateInstance(typeof(AggregateCompleted<>).MakeGenericType(resultType), requestId, result, parts, elapsed)!;
            }
            case GetStatsManifest:
                return GetAggregatorStats.Instance;
            case StatsManifest:
                return new AggregatorStats(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64())
                    { Coalesced = reader.ReadInt64() };
            case GetLeakReportManifest:
                return GetLeakReport.Instance;
            case GetFrontStatsManifest:
                return GetFrontStats.Instance;
            case FrontStatsManifest:
                return new FrontStats(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
            case LeakReportManifest:
            {
                var inFlight = ReadList(reader, r => new InFlightRequest(r.ReadString(), ReadList(r, r2 => r2.ReadString())));
                var liveFetchers = reader.ReadInt32();
                var lingering = ReadList(reader, r => new LingeringFetch(r.ReadString(), r.ReadString(), TimeSpan.FromTicks(r.ReadInt64()), r.ReadBoolean()));
                return new LeakReport(inFlight, liveFetchers, lingering);
            }
            default:
                throw new NotSupportedException($"the manifest '{manifest}' is not known here");
        }
    }

    // ---- failures and errors

    private enum FailureKind : byte { FetcherFailed = 1, QuorumNotReached, DeadlineExceeded, AggregationCancelled, RequestRejected, CombineFailed, NodeFailed }

    private static void WriteFailure(BinaryWriter writer, AggregationFailure failure)
    {
        switch (failure)
        {
            case FetcherFailed fetcher:
                writer.Write((byte)FailureKind.FetcherFailed);
                WriteFetcherFailed(writer, fetcher);
                break;
            case QuorumNotReached quorum:
                writer.Write((byte)FailureKind.QuorumNotReached);
                writer.Write(quorum.Required);
                WriteList(writer, quorum.Failures, WriteFetcherFailed);
                break;
            case DeadlineExceeded deadline:
                writer.Write((byte)FailureKind.DeadlineExceeded);
                writer.Write(deadline.Timeout.Ticks);
                WriteList(writer, deadline.Pending, (w, name) => w.Write(name));
                break;
            case AggregationCancelled cancelled:
                writer.Write((byte)FailureKind.AggregationCancelled);
                writer.Write(cancelled.Reason);
                break;
            case RequestRejected rejected:
                writer.Write((byte)FailureKind.RequestRejected);
                writer.Write(rejected.Reason);
                break;
            case CombineFailed combine:
                writer.Write((byte)FailureKind.CombineFailed);
                WriteError(writer, combine.Exception, 0);
                break;
            case NodeFailed node:
                writer.Write((byte)FailureKind.NodeFailed);
                writer.Write(node.Node);
                writer.Write(node.Reason);
                break;
            default:
                throw new ArgumentException($"{nameof(AggregationSerializer)} cannot serialize the failure {failure.GetType().FullName}.");
        }
    }

    private static AggregationFailure ReadFailure(BinaryReader reader) => (FailureKind)reader.ReadByte() switch
    {
        FailureKind.FetcherFailed => ReadFetcherFailed(reader),
        FailureKind.QuorumNotReached => new QuorumNotReached(reader.ReadInt32(), ReadList(reader, ReadFetcherFailed)),
        FailureKind.DeadlineExceeded => new DeadlineExceeded(TimeSpan.FromTicks(reader.ReadInt64()), ReadList(reader, r => r.ReadString())),
        FailureKind.AggregationCancelled => new AggregationCancelled(reader.ReadString()),
        FailureKind.RequestRejected => new RequestRejected(reader.ReadString()),
        FailureKind.CombineFailed => new CombineFailed(ReadError(reader)),
        FailureKind.NodeFailed => new NodeFailed(reader.ReadString(), reader.ReadString()),
        var kind => throw new InvalidDataException($"unknown failure kind {(byte)kind}"),
    };

    private static void WriteFetcherFailed(BinaryWriter writer, FetcherFailed failure)
    {
        writer.Write(failure.Fetcher);
        WriteError(writer, failure.Exception, 0);
        writer.Write(failure.Attempts);
    }

    private static FetcherFailed ReadFetcherFailed(BinaryReader reader) =>
        new(reader.ReadString(), ReadError(reader)) { Attempts = reader.ReadInt32() };

    /// <summary>An exception as data: never the object, whose type may not exist on the other node. A getter that throws is reported, not obeyed.</summary>
    private static void WriteError(BinaryWriter writer, Exception error, int depth)
    {
        writer.Write(error is RemoteException remote ? remote.TypeName : error.GetType().FullName ?? error.GetType().Name);
        writer.Write(Errors.MessageOf(error));
        string? stackTrace;
        try
        {
            stackTrace = error.StackTrace;
        }
        catch (Exception)
        {
            stackTrace = null;
        }
        WriteNullableString(writer, stackTrace);
        IReadOnlyList<Exception> inner = depth >= MaxErrorDepth ? []
            : error switch
            {
                RemoteException r => r.InnerErrors,
                AggregateException a => a.InnerExceptions,
                { InnerException: { } one } => [one],
                _ => [],
            };
        WriteList(writer, inner, (w, e) => WriteError(w, e, depth + 1));
    }

    private static RemoteException ReadError(BinaryReader reader)
    {
        var typeName = reader.ReadString();
        var message = reader.ReadString();
        var stackTrace = ReadNullableString(reader);
        var inner = ReadList(reader, ReadError);
        return new RemoteException(typeName, message, stackTrace, inner);
    }

    private void WritePart(BinaryWriter writer, PartOutcome part)
    {
        writer.Write(part.Fetcher);
        writer.Write((byte)part.Status);
        WritePayload(writer, part.Value);
        writer.Write(part.Error is not null);
        if (part.Error is not null) WriteError(writer, part.Error, 0);
        writer.Write(part.Attempts);
    }

    private PartOutcome ReadPart(BinaryReader reader)
    {
        var fetcher = reader.ReadString();
        var status = (PartStatus)reader.ReadByte();
        if (!Enum.IsDefined(status)) throw new InvalidDataException($"unknown part status {(byte)status}");
        var value = ReadPayload(reader);
        var error = reader.ReadBoolean() ? ReadError(reader) : null;
        return new PartOutcome(fetcher, status, value, error) { Attempts = reader.ReadInt32() };
    }

    // ---- user payloads: keys, parts, results

    /// <summary>A user object, serialized by whatever serializer Akka binds to its type, nested with that serializer's id and manifest.</summary>
    private void WritePayload(BinaryWriter writer, object? payload)
    {
        writer.Write(payload is not null);
        if (payload is null) return;
        var serializer = system.Serialization.FindSerializerFor(payload);
        var bytes = serializer.ToBinary(payload);
        writer.Write(serializer.Identifier);
        writer.Write(Akka.Serialization.Serialization.ManifestFor(serializer, payload));
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private object? ReadPayload(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var serializerId = reader.ReadInt32();
        var manifest = reader.ReadString();
        var bytes = reader.ReadBytes(reader.ReadInt32());
        return system.Serialization.Deserialize(bytes, serializerId, manifest);
    }

    // ---- types: the generic argument of Aggregate<TKey> and the replies' TResult

    private static void WriteType(BinaryWriter writer, Type type) => writer.Write(type.AssemblyQualifiedName ?? type.FullName ?? type.Name);

    private static Type ReadType(BinaryReader reader)
    {
        var name = reader.ReadString();
        return Type.GetType(name, throwOnError: false) ?? throw new TypeLoadException($"the type '{name}' is not known on this node");
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Func<object?, string?, TimeSpan?, string?, string?, object>> AggregateFactories = new();

    private static Func<object?, string?, TimeSpan?, string?, string?, object> AggregateFactory(Type keyType) =>
        AggregateFactories.GetOrAdd(keyType, static type =>
            (Func<object?, string?, TimeSpan?, string?, string?, object>)typeof(AggregationSerializer)
                .GetMethod(nameof(NewAggregate), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(type)
                .CreateDelegate(typeof(Func<object?, string?, TimeSpan?, string?, string?, object>)));

    private static object NewAggregate<TKey>(object? key, string? requestId, TimeSpan? timeout, string? traceParent, string? traceState) =>
        new Aggregate<TKey>((TKey)key!) { RequestId = requestId, Timeout = timeout, TraceParent = traceParent, TraceState = traceState };

    // ---- primitives

    private static void WriteNullableString(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null) writer.Write(value);
    }

    private static string? ReadNullableString(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static void WriteNullableTimeSpan(BinaryWriter writer, TimeSpan? value)
    {
        writer.Write(value.HasValue);
        if (value is { } v) writer.Write(v.Ticks);
    }

    private static TimeSpan? ReadNullableTimeSpan(BinaryReader reader) => reader.ReadBoolean() ? TimeSpan.FromTicks(reader.ReadInt64()) : null;

    private static void WriteList<T>(BinaryWriter writer, IReadOnlyList<T> items, Action<BinaryWriter, T> write)
    {
        writer.Write(items.Count);
        foreach (var item in items) write(writer, item);
    }

    private static T[] ReadList<T>(BinaryReader reader, Func<BinaryReader, T> read)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"a list of {count} items cannot fit in what is left of the payload");
        var items = new T[count];
        for (var i = 0; i < count; i++) items[i] = read(reader);
        return items;
    }
}

/// <summary>
/// What <see cref="AggregationSerializer"/> reads a payload it cannot read as (already logged at Warning): the library's
/// actors ignore it, so the request it belonged to ends by its own deadline, never by a torn-down connection.
/// </summary>
internal sealed record UnreadableMessage(string Manifest, string Error) : Akka.Actor.INoSerializationVerificationNeeded, Akka.Event.IDeadLetterSuppression;
