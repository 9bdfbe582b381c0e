using Actors.Aggregation.Hosting;
using Akka;
using Akka.Actor;
using Akka.Hosting;

namespace Actors.Aggregation.Cluster;

/// <summary>Registers an aggregation spread over an Akka.NET cluster with Akka.Hosting.</summary>
public static class ClusterAggregationHostingExtensions
{
    /// <summary>
    /// On every member: a cluster front (<see cref="ClusterAggregatorFront"/>) at <c>/user/{name}</c>, registered under
    /// <typeparamref name="TActorKey"/>, so callers send to one ref as with <c>WithAggregator</c>. On every member with
    /// <see cref="ClusterAggregatorOptions.Role"/>: a pool of <see cref="ClusterAggregatorOptions.InstancesPerNode"/>
    /// aggregators behind its own front at <c>/user/{name}-pool</c>, which the cluster fronts find. On shutdown or a
    /// graceful leave, both fronts stop admitting in <c>service-unbind</c> (new requests go to other members) and wait for
    /// their requests within that phase; what is left is answered <see cref="AggregationCancelled"/> in
    /// <c>service-requests-done</c>, every token fired.
    /// </summary>
    /// <typeparam name="TActorKey">The registry key, e.g. <c>DashboardAggregator</c>.</typeparam>
    /// <typeparam name="TKey">The request key.</typeparam>
    /// <param name="builder">The Akka.Hosting builder of a system whose provider is the cluster (Akka.Cluster.Hosting's <c>WithClustering</c>).</param>
    /// <param name="definition">The aggregation.</param>
    /// <param name="options">Role, instances per member, the unreachable opt-in and the aggregators' options.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithClusterAggregator<TActorKey, TKey>(this AkkaConfigurationBuilder builder,
        AggregationDefinition<TKey> definition, ClusterAggregatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(options);
        if (options.InstancesPerNode < 1)
            throw new AggregationConfigurationException("ClusterAggregatorOptions.InstancesPerNode", $"{nameof(ClusterAggregatorOptions)}.{nameof(options.InstancesPerNode)} must be at least 1, but was {options.InstancesPerNode}.");
        if (options.Role is not null && string.IsNullOrWhiteSpace(options.Role))
            throw new AggregationConfigurationException("ClusterAggregatorOptions.Role", $"{nameof(ClusterAggregatorOptions)}.{nameof(options.Role)} must not be blank; null means every member.");
        var role = options.Role;
        var instances = options.InstancesPerNode;
        var failOnUnreachable = options.FailOnUnreachable;
        var resolved = AggregationHostingExtensions.Prepare<TActorKey, TKey>(builder, definition, options.Aggregator ?? new AggregatorOptions());
        var poolName = resolved.ActorName + "-pool";
        return builder.WithActors((system, registry, resolver) =>
        {
            var (effective, settings) = resolved.Resolve(system, resolver);
            var frontSettings = AggregatorFrontSettings.Create(system);
            if (failOnUnreachable is { } fail) frontSettings = frontSettings.WithFailOnUnreachable(fail);
            if (role is null || Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(role))
            {
                var pool = system.ActorOf(AggregatorFront.Pool(effective, instances, settings, frontSettings), poolName);
                DrainOnShutdown(system, pool, poolName);
                AggregationHostingExtensions.StopOnShutdown(system, pool, poolName);
            }
            var front = system.ActorOf(ClusterAggregatorFront.Props(effective, "/user/" + poolName, role, frontSettings), resolved.ActorName);
            registry.Register<TActorKey>(front);
            DrainOnShutdown(system, front, resolved.ActorName);
            AggregationHostingExtensions.StopOnShutdown(system, front, resolved.ActorName);
        });
    }

    /// <summary>In <c>service-unbind</c>: no new requests, and the running ones get until the end of the phase.</summary>
    private static void DrainOnShutdown(ActorSystem system, IActorRef front, string actorName)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var phase = CoordinatedShutdown.PhaseServiceUnbind;
        // A little under the phase's timeout, so that the phase ends by itself rather than by timing out.
        var within = shutdown.Timeout(phase) * 0.9;
        shutdown.AddTask(phase, $"drain-{actorName}", async () =>
        {
            await AggregatorFront.DrainAsync(front, within).ConfigureAwait(false);
            return Done.Instance;
        });
    }
}
