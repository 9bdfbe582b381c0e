using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Aggregation.Reliability.Tests.Model;

/// <summary>
/// The cross-node scenarios' key type over the wire: a <see cref="RequestRun"/> crosses as its request id, and the
/// receiving node (in the same process) finds the same run in a registry, so both nodes record what happened to one object.
/// This is how a user's key type goes through whatever serializer Akka binds to it.
/// </summary>
public sealed class RequestRunSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private static readonly ConcurrentDictionary<string, RequestRun> Runs = new(StringComparer.Ordinal);

    public override int Identifier => 4127;

    public static void Register(RequestRun run) => Runs[run.RequestId] = run;

    public static void Forget(RequestRun run) => Runs.TryRemove(run.RequestId, out _);

    public override string Manifest(object o) => "run";

    public override byte[] ToBinary(object obj) => Encoding.UTF8.GetBytes(((RequestRun)obj).RequestId);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var id = Encoding.UTF8.GetString(bytes);
        return Runs.TryGetValue(id, out var run) ? run : throw new System.Runtime.Serialization.SerializationException($"no run registered for '{id}'");
    }
}
