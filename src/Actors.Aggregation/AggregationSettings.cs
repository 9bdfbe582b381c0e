using Akka.Actor;
using Akka.Configuration;

namespace Actors.Aggregation;

/// <summary>
/// Settings of an aggregator, read from the <c>actors.aggregation</c> HOCON section. The library's reference
/// configuration (<c>hocon/aggregation.conf</c>, embedded) supplies every default; values given in code through the
/// <c>WithX</c> copies win over configuration. Validated on construction.
/// </summary>
public sealed class AggregationSettings
{
    /// <summary>The HOCON path of the section these settings are read from.</summary>
    public const string ConfigPath = "actors.aggregation";

    /// <summary>
    /// The longest deadline a request may have: 49 days. A .NET timer, which holds every request's deadline, accepts about
    /// 49.7 days; a longer timeout anywhere (request, definition, settings) is refused with a clear error rather than
    /// silently capped.
    /// </summary>
    public static TimeSpan MaxTimeout { get; } = TimeSpan.FromDays(49);

    /// <summary>Creates settings with explicit values.</summary>
    /// <param name="defaultTimeout">See <see cref="DefaultTimeout"/>.</param>
    /// <param name="maxInFlight">See <see cref="MaxInFlight"/>.</param>
    /// <param name="abandonedFetchGrace">See <see cref="AbandonedFetchGrace"/>.</param>
    /// <param name="rejectionLogInterval">See <see cref="RejectionLogInterval"/>; null for the default, 10 s.</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names the setting.</exception>
    public AggregationSettings(TimeSpan defaultTimeout, int maxInFlight, TimeSpan abandonedFetchGrace, TimeSpan? rejectionLogInterval = null)
    {
        ValidateTimeout(defaultTimeout, $"{ConfigPath}.default-timeout", nameof(defaultTimeout));
        if (maxInFlight < 0)
            throw new ArgumentException($"{ConfigPath}.max-in-flight must be 0 (no limit) or positive, but was {maxInFlight}.", nameof(maxInFlight));
        if (abandonedFetchGrace < TimeSpan.Zero || abandonedFetchGrace > MaxTimeout)
            throw new ArgumentException($"{ConfigPath}.abandoned-fetch-grace must be between 0 and {MaxTimeout.TotalDays:0} days, but was {abandonedFetchGrace}.", nameof(abandonedFetchGrace));
        var interval = rejectionLogInterval ?? TimeSpan.FromSeconds(10);
        if (interval <= TimeSpan.Zero || interval > MaxTimeout)
            throw new ArgumentException($"{ConfigPath}.rejection-log-interval must be positive and at most {MaxTimeout.TotalDays:0} days, but was {interval}.", nameof(rejectionLogInterval));
        DefaultTimeout = defaultTimeout;
        MaxInFlight = maxInFlight;
        AbandonedFetchGrace = abandonedFetchGrace;
        RejectionLogInterval = interval;
    }

    /// <summary>Deadline of a request when neither its definition nor its message sets one (<c>default-timeout</c>, default 5 s).</summary>
    public TimeSpan DefaultTimeout { get; }

    /// <summary>Most requests one aggregator runs at once; 0 means no limit (<c>max-in-flight</c>, default 10000).</summary>
    public int MaxInFlight { get; }

    /// <summary>
    /// How long a fetch may keep running after its token fired before it counts as abandoned and is logged at Warning
    /// (<c>abandoned-fetch-grace</c>, default 250 ms). Cooperative I/O such as <c>HttpClient</c> finishes well inside it.
    /// </summary>
    public TimeSpan AbandonedFetchGrace { get; }

    /// <summary>
    /// How often rejected requests are summed up in the log (<c>rejection-log-interval</c>, default 10 s): the first rejection
    /// of an interval is logged at Warning with its reason, the others at Debug, and one Warning at the end counts them.
    /// </summary>
    public TimeSpan RejectionLogInterval { get; }

    /// <summary>
    /// Whether each fetch (each attempt, under a retry or hedging policy) gets a span of its own, <c>fetch {fetcher}</c>,
    /// under its request's span, while a listener samples it (<c>telemetry.fetch-spans</c>, default on). Off, only the
    /// request's span is made: for very large fan-outs, where a thousand spans per request cost more than they tell.
    /// </summary>
    public bool FetchSpans { get; init; } = true;

    /// <summary>A copy with <see cref="FetchSpans"/> on or off.</summary>
    public AggregationSettings WithFetchSpans(bool value) => new(DefaultTimeout, MaxInFlight, AbandonedFetchGrace, RejectionLogInterval) { FetchSpans = value };

    /// <summary>What is wrong with <paramref name="timeout"/> as a deadline ("must be positive, ..."), or null when it is fine.</summary>
    internal static string? InvalidTimeout(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? $"must be positive, but was {timeout}"
        : timeout > MaxTimeout ? $"must be at most {MaxTimeout.TotalDays:0} days (a .NET timer holds it), but was {timeout}"
        : null;

    internal static void ValidateTimeout(TimeSpan timeout, string what, string parameter)
    {
        if (InvalidTimeout(timeout) is { } invalid) throw new ArgumentException($"{what} {invalid}.", parameter);
    }

    /// <summary>The library's reference configuration, embedded from <c>hocon/aggregation.conf</c>.</summary>
    public static Config DefaultConfig() => ReferenceConfig.Value;

    /// <summary>Reads the settings of <paramref name="system"/>, with the reference configuration as fallback.</summary>
    /// <remarks>Read once per actor system and cached: injecting the fallback rebuilds the system's whole configuration, and
    /// an aggregator without explicit settings calls this on every start and restart.</remarks>
    public static AggregationSettings Create(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return BySystem.GetValue(system, static s =>
        {
            s.Settings.InjectTopLevelFallback(DefaultConfig());
            return Create(s.Settings.Config.GetConfig(ConfigPath));
        });
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ActorSystem, AggregationSettings> BySystem = new();

    /// <summary>Reads settings from an <c>actors.aggregation</c> section; missing keys take the reference defaults.</summary>
    /// <exception cref="ArgumentException">A value is out of range or malformed; the message names the setting.</exception>
    public static AggregationSettings Create(Config section)
    {
        var config = (section ?? Config.Empty).WithFallback(DefaultConfig().GetConfig(ConfigPath));
        return new AggregationSettings(
            Read(config, "default-timeout", c => c.GetTimeSpan("default-timeout", null, allowInfinite: false)),
            Read(config, "max-in-flight", c => c.GetInt("max-in-flight")),
            Read(config, "abandoned-fetch-grace", c => c.GetTimeSpan("abandoned-fetch-grace", null, allowInfinite: false)),
            Read(config, "rejection-log-interval", c => c.GetTimeSpan("rejection-log-interval", null, allowInfinite: false)))
        {
            FetchSpans = Read(config, "telemetry.fetch-spans", c => c.GetBoolean("telemetry.fetch-spans")),
        };
    }

    private static T Read<T>(Config config, string key, Func<Config, T> read) => Read(ConfigPath, config, key, read);

    /// <summary>Reads <paramref name="key"/> of the section at <paramref name="path"/>; a malformed value throws an
    /// <see cref="ArgumentException"/> naming the setting.</summary>
    internal static T Read<T>(string path, Config config, string key, Func<Config, T> read)
    {
        try
        {
            return read(config);
        }
        catch (Exception e)
        {
            throw new ArgumentException($"{path}.{key} is not valid ('{config.GetString(key)}'): {e.Message}", key, e);
        }
    }

    /// <summary>A copy with another <see cref="DefaultTimeout"/>.</summary>
    public AggregationSettings WithDefaultTimeout(TimeSpan value) => new(value, MaxInFlight, AbandonedFetchGrace, RejectionLogInterval) { FetchSpans = FetchSpans };

    /// <summary>A copy with another <see cref="MaxInFlight"/>.</summary>
    public AggregationSettings WithMaxInFlight(int value) => new(DefaultTimeout, value, AbandonedFetchGrace, RejectionLogInterval) { FetchSpans = FetchSpans };

    /// <summary>A copy with another <see cref="AbandonedFetchGrace"/>.</summary>
    public AggregationSettings WithAbandonedFetchGrace(TimeSpan value) => new(DefaultTimeout, MaxInFlight, value, RejectionLogInterval) { FetchSpans = FetchSpans };

    /// <summary>A copy with another <see cref="RejectionLogInterval"/>.</summary>
    public AggregationSettings WithRejectionLogInterval(TimeSpan value) => new(DefaultTimeout, MaxInFlight, AbandonedFetchGrace, value) { FetchSpans = FetchSpans };

    private static readonly Lazy<Config> ReferenceConfig = new(() =>
    {
        using var stream = typeof(AggregationSettings).Assembly.GetManifestResourceStream("Actors.Aggregation.aggregation.conf")
            ?? throw new InvalidOperationException("The embedded reference configuration Actors.Aggregation.aggregation.conf is missing.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });
}
