using Akka;
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;

namespace Actors.Aggregation.Hosting;

/// <summary>
/// Registers aggregators with Akka.Hosting. Each <c>WithAggregator</c> call starts one aggregator actor when the actor system
/// starts, registers it in the <see cref="ActorRegistry"/> under <c>TActorKey</c> (a marker type of yours, conventionally a
/// sealed class with a private constructor), so actors and services get it as <see cref="IRequiredActor{TActor}"/>, and stops
/// it through <see cref="CoordinatedShutdown"/>.
/// </summary>
/// <example>
/// <code>
/// services.AddAkka("dashboard", akka =&gt; akka
///     .ConfigureLoggers(loggers =&gt; loggers.AddLoggerFactory())
///     .WithAggregator&lt;DashboardAggregator, int&gt;(definition));
/// // Aggregation:Dashboard:Timeout etc. are read from the host's IConfiguration.
/// var aggregator = await provider.GetRequiredService&lt;IRequiredActor&lt;DashboardAggregator&gt;&gt;().GetAsync();
/// </code>
/// </example>
/// <remarks>
/// <para><b>Options.</b> Each value is resolved when the actor system starts, lowest layer first: HOCON
/// (<c>actors.aggregation</c>: the embedded reference configuration under the host's own HOCON, and for the timeout the
/// definition's <c>WithTimeout</c> above it), then the host's <c>IConfiguration</c> section (<see cref="AggregatorOptions.ConfigurationSection"/>),
/// then the options given here. Values given here are validated at once; configuration is validated when the system starts,
/// or earlier with <see cref="AggregatorOptions.FromConfiguration"/>. Both fail with <see cref="AggregationConfigurationException"/>.</para>
/// <para><b>Shutdown.</b> In CoordinatedShutdown's <c>service-requests-done</c> phase each aggregator is stopped and awaited
/// (bounded by that phase's timeout): every request in flight is answered with <see cref="AggregationCancelled"/> whose reason
/// says the actor system is shutting down, and every fetch's token is cancelled, before the later phases run and before the
/// actor system terminates. An Ask (<c>AggregateAsync</c>) has its answer by then; a requesting actor has it in its mailbox
/// while it is still alive, and sees it unless it is stopped before it gets to it (the actor system's final termination
/// drops unprocessed mail). Requests sent after that get no reply, as with any stopped actor: give <c>AggregateAsync</c> a
/// timeout or a token. In-flight requests are cancelled rather than drained: a fetch's deadline may be longer than the
/// shutdown allows, and errgroup's answer to a cancelled parent is to cancel the children.</para>
/// </remarks>
public static class AggregationHostingExtensions
{
    /// <summary>Registers an aggregator, with options given as values.</summary>
    /// <typeparam name="TActorKey">The registry key, e.g. <c>DashboardAggregator</c>.</typeparam>
    /// <typeparam name="TKey">The request key.</typeparam>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="definition">The aggregation to run, whatever its result type (callers name it in <c>AggregateAsync&lt;TKey, TResult&gt;</c>).</param>
    /// <param name="timeout">See <see cref="AggregatorOptions.Timeout"/>; null keeps the layers below.</param>
    /// <param name="maxInFlight">See <see cref="AggregatorOptions.MaxInFlight"/>; null keeps the layers below.</param>
    /// <param name="abandonedFetchGrace">See <see cref="AggregatorOptions.AbandonedFetchGrace"/>; null keeps the layers below.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="AggregationConfigurationException">A value is out of range.</exception>
    public static AkkaConfigurationBuilder WithAggregator<TActorKey, TKey>(this AkkaConfigurationBuilder builder,
        AggregationDefinition<TKey> definition, TimeSpan? timeout = null, int? maxInFlight = null, TimeSpan? abandonedFetchGrace = null) =>
        Register<TActorKey, TKey>(builder, definition,
            new AggregatorOptions { Timeout = timeout, MaxInFlight = maxInFlight, AbandonedFetchGrace = abandonedFetchGrace });

    /// <summary>Registers an aggregator, with an options object.</summary>
    /// <inheritdoc cref="WithAggregator{TActorKey, TKey}(AkkaConfigurationBuilder, AggregationDefinition{TKey}, TimeSpan?, int?, TimeSpan?)" path="/typeparam"/>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="definition">The aggregation to run, whatever its result type.</param>
    /// <param name="options">Options given in code; they win over configuration. Null values keep the layers below.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="AggregationConfigurationException">A value is out of range.</exception>
    public static AkkaConfigurationBuilder WithAggregator<TActorKey, TKey>(this AkkaConfigurationBuilder builder,
        AggregationDefinition<TKey> definition, AggregatorOptions options) =>
        Register<TActorKey, TKey>(builder, definition, options);

    /// <summary>Registers an aggregator, with options set by a delegate.</summary>
    /// <inheritdoc cref="WithAggregator{TActorKey, TKey}(AkkaConfigurationBuilder, AggregationDefinition{TKey}, TimeSpan?, int?, TimeSpan?)" path="/typeparam"/>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <param name="definition">The aggregation to run, whatever its result type.</param>
    /// <param name="configure">Sets options in code; they win over configuration.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="AggregationConfigurationException">A value is out of range.</exception>
    public static AkkaConfigurationBuilder WithAggregator<TActorKey, TKey>(this AkkaConfigurationBuilder builder,
        AggregationDefinition<TKey> definition, Action<AggregatorOptions> configure) =>
        Register<TActorKey, TKey>(builder, definition, Configure(configure));

    /// <summary>
    /// Adds the library's reference configuration to the actor system, below the host's own: the defaults of
    /// <c>actors.aggregation</c> and the serializer of its messages (<see cref="Serialization.AggregationSerializer"/>), so
    /// that requests and replies cross Akka.Remote. <c>WithAggregator</c> does this itself; call it on a node that only sends
    /// requests to aggregators on other nodes. Calling it more than once is harmless.
    /// </summary>
    /// <param name="builder">The Akka.Hosting builder.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithAggregationSerializer(this AkkaConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHocon(AggregationSettings.DefaultConfig(), HoconAddMode.Append);
    }

    private static AggregatorOptions Configure(Action<AggregatorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AggregatorOptions();
        configure(options);
        return options;
    }

    private static AkkaConfigurationBuilder Register<TActorKey, TKey>(AkkaConfigurationBuilder builder,
        AggregationDefinition<TKey> definition, AggregatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(options);
        var resolved = Prepare<TActorKey, TKey>(builder, definition, options);
        return builder.WithActors((system, registry, resolver) =>
        {
            var (effectiveDefinition, settings) = resolved.Resolve(system, resolver);
            var aggregator = system.ActorOf(AggregatorActor.Props(effectiveDefinition, settings), resolved.ActorName);
            registry.Register<TActorKey>(aggregator);
            StopOnShutdown(system, aggregator, resolved.ActorName);
        });
    }

    /// <summary>
    /// Validates the options given in code at once and returns the actor's name and how to resolve the definition and
    /// settings when the system starts (configuration layered under the code's options). Also adds the library's reference
    /// configuration. Shared with the cluster registration.
    /// </summary>
    internal static (string ActorName, Func<ActorSystem, IDependencyResolver, (AggregationDefinition<TKey> Definition, AggregationSettings Settings)> Resolve)
        Prepare<TActorKey, TKey>(AkkaConfigurationBuilder builder, AggregationDefinition<TKey> definition, AggregatorOptions options)
    {
        // Copy first: the caller may reuse or change its options object after this call.
        var fromCode = new AggregatorOptions().OverriddenBy(options);
        fromCode.Validate();
        var actorName = fromCode.ActorName ?? AggregatorOptions.DefaultActorName(typeof(TActorKey));
        var section = fromCode.ConfigurationSection ?? AggregatorOptions.DefaultConfigurationSection(typeof(TActorKey));

        // The library's reference configuration, below the host's own: its serializer must be known when the system starts.
        builder.WithAggregationSerializer();
        return (actorName, (system, resolver) =>
        {
            var configuration = resolver.GetService<IConfiguration>();
            var fromConfiguration = configuration is null ? new AggregatorOptions() : AggregatorOptions.FromConfiguration(configuration, section);
            var effective = fromConfiguration.OverriddenBy(fromCode);
            return (effective.ApplyTo(definition), effective.ApplyTo(AggregationSettings.Create(system)));
        });
    }

    /// <summary>
    /// Stops the aggregator in <c>service-requests-done</c>, before the actor system tears down the actors that may be waiting for
    /// its replies, and waits until it and its coordinators have stopped, which is when every requester has been answered.
    /// </summary>
    internal static void StopOnShutdown(ActorSystem system, IActorRef aggregator, string actorName)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var phase = CoordinatedShutdown.PhaseServiceRequestsDone;
        var timeout = shutdown.Timeout(phase);
        shutdown.AddTask(phase, $"stop-aggregator-{actorName}", async () =>
        {
            // A timeout here is reported by CoordinatedShutdown itself, which then goes on to the next phase.
            await aggregator.GracefulStop(timeout).ConfigureAwait(false);
            return Done.Instance;
        });
    }
}
