using Akka.Actor;
using Akka.Configuration;

namespace Actors.Aggregation;

/// <summary>
/// Settings of an aggregator front (<see cref="AggregatorFront"/>), read from <c>actors.aggregation.front</c>; the
/// reference configuration supplies every default and the <c>WithX</c> copies given in code win. Validated on construction.
/// </summary>
public sealed class AggregatorFrontSettings
{
    /// <summary>The HOCON path of the section these settings are read from.</summary>
    public const string ConfigPath = "actors.aggregation.front";

    /// <summary>Creates settings with explicit values.</summary>
    /// <param name="deadlineMargin">See <see cref="DeadlineMargin"/>.</param>
    /// <param name="failOnUnreachable">See <see cref="FailOnUnreachable"/>.</param>
    /// <param name="identifyInterval">See <see cref="IdentifyInterval"/>.</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names the setting.</exception>
    public AggregatorFrontSettings(TimeSpan deadlineMargin, bool failOnUnreachable, TimeSpan identifyInterval)
    {
        if (deadlineMargin < TimeSpan.Zero || deadlineMargin > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"{ConfigPath}.deadline-margin must be between 0 and 1 minute, but was {deadlineMargin}.", nameof(deadlineMargin));
        if (identifyInterval <= TimeSpan.Zero || identifyInterval > AggregationSettings.MaxTimeout)
            throw new ArgumentException($"{ConfigPath}.identify-interval must be positive and at most {AggregationSettings.MaxTimeout.TotalDays:0} days, but was {identifyInterval}.", nameof(identifyInterval));
        DeadlineMargin = deadlineMargin;
        FailOnUnreachable = failOnUnreachable;
        IdentifyInterval = identifyInterval;
    }

    /// <summary>
    /// How much of a request's budget the front keeps for the way back (<c>deadline-margin</c>, default 50 ms): the
    /// aggregator gets the budget less this (at most a quarter of it), so that on a healthy network its own answer, which
    /// names the pending fetchers, reaches the requester before the front's deadline, which is the request's own.
    /// </summary>
    public TimeSpan DeadlineMargin { get; }

    /// <summary>
    /// Whether a cluster front answers <see cref="NodeFailed"/> as soon as a node is unreachable (<c>fail-on-unreachable</c>,
    /// default off), rather than when the node is removed from the cluster (after the downing provider's decision, often
    /// longer than a request's deadline). An unreachable node may come back: its requests may still run to the end there.
    /// </summary>
    public bool FailOnUnreachable { get; }

    /// <summary>How often a cluster front asks a member that has no aggregator yet whether it has one now (<c>identify-interval</c>, default 1 s).</summary>
    public TimeSpan IdentifyInterval { get; }

    /// <summary>Reads the settings of <paramref name="system"/>, with the reference configuration as fallback.</summary>
    public static AggregatorFrontSettings Create(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        AggregationSettings.Create(system); // injects the reference configuration, once per system
        return Create(system.Settings.Config.GetConfig(ConfigPath));
    }

    /// <summary>Reads settings from an <c>actors.aggregation.front</c> section; missing keys take the reference defaults.</summary>
    /// <exception cref="ArgumentException">A value is out of range or malformed; the message names the setting.</exception>
    public static AggregatorFrontSettings Create(Config section)
    {
        var config = (section ?? Config.Empty).WithFallback(AggregationSettings.DefaultConfig().GetConfig(ConfigPath));
        return new AggregatorFrontSettings(
            Read(config, "deadline-margin", c => c.GetTimeSpan("deadline-margin", null, allowInfinite: false)),
            Read(config, "fail-on-unreachable", c => c.GetBoolean("fail-on-unreachable")),
            Read(config, "identify-interval", c => c.GetTimeSpan("identify-interval", null, allowInfinite: false)));
    }

    private static T Read<T>(Config config, string key, Func<Config, T> read) => AggregationSettings.Read(ConfigPath, config, key, read);

    /// <summary>A copy with another <see cref="DeadlineMargin"/>.</summary>
    public AggregatorFrontSettings WithDeadlineMargin(TimeSpan value) => new(value, FailOnUnreachable, IdentifyInterval);

    /// <summary>A copy with another <see cref="FailOnUnreachable"/>.</summary>
    public AggregatorFrontSettings WithFailOnUnreachable(bool value) => new(DeadlineMargin, value, IdentifyInterval);

    /// <summary>A copy with another <see cref="IdentifyInterval"/>.</summary>
    public AggregatorFrontSettings WithIdentifyInterval(TimeSpan value) => new(DeadlineMargin, FailOnUnreachable, value);

    /// <summary>The timeout an aggregator gets out of a budget of <paramref name="remaining"/>.</summary>
    internal TimeSpan ForAggregator(TimeSpan remaining)
    {
        var margin = DeadlineMargin < remaining / 4 ? DeadlineMargin : remaining / 4;
        return remaining - margin;
    }
}
