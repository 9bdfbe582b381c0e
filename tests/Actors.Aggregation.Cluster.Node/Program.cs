using Actors.Aggregation;
using Akka.Actor;
using Akka.Configuration;

// A worker node of the cluster specs: joins the seed given as the first argument, runs a pool of aggregators at
// /user/dashboard-pool, prints "ready <address>" once it is up, and runs until it is killed or its input closes.
// Its aggregation answers a negative key at once and holds any other key until its token fires.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Actors.Aggregation.Cluster.Node <seed address, e.g. akka.tcp://cluster@127.0.0.1:4053>");
    return 2;
}

var config = ConfigurationFactory.ParseString("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp.hostname = 127.0.0.1
    akka.remote.dot-netty.tcp.port = 0
    akka.actor.serialization-settings.allow-unregistered-types = off
    akka.cluster.roles = [worker]
    akka.cluster.gossip-interval = 200ms
    akka.cluster.leader-actions-interval = 200ms
    akka.cluster.failure-detector.heartbeat-interval = 200ms
    akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
    akka.cluster.downing-provider-class = ""
    akka.loglevel = WARNING
    """).WithFallback(AggregationSettings.DefaultConfig());
var system = ActorSystem.Create("cluster", config);
var dashboard = Aggregation.For<int>()
    .Fetch("profile", async (key, ct) =>
    {
        if (key >= 0) await Task.Delay(Timeout.Infinite, ct);
        return "Name: Alice (child process)";
    })
    .WithTimeout(TimeSpan.FromSeconds(60))
    .Build();
system.ActorOf(AggregatorFront.Pool(dashboard, 2), "dashboard-pool");
var cluster = Akka.Cluster.Cluster.Get(system);
await cluster.JoinAsync(Address.Parse(args[0]));
Console.WriteLine($"ready {cluster.SelfAddress}");

await Task.WhenAny(Task.Run(() => Console.In.ReadToEnd()), system.WhenTerminated);
await system.Terminate();
return 0;
