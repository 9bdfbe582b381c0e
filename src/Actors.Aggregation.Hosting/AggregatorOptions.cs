using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Actor;
using Microsoft.Extensions.Configuration;

namespace Actors.Aggregation.Hosting;

/// <summary>
/// Options of one aggregator registered with <see cref="AggregationHostingExtensions"/>' <c>WithAggregator</c>.
/// Every property is nullable: null keeps what the layer below says. The layers, lowest first:
/// <list type="number">
/// <item>HOCON: the library's reference configuration (<c>hocon/aggregation.conf</c>, embedded), under any HOCON the host adds
/// to <c>actors.aggregation</c>; for the timeout, the definition's <c>WithTimeout</c> sits on top of it;</item>
/// <item><c>IConfiguration</c>: the section <see cref="ConfigurationSection"/>, e.g. <c>Aggregation:Dashboard:Timeout</c>;</item>
/// <item>code: the options given to <c>WithAggregator</c>.</item>
/// </list>
/// </summary>
public sealed partial class AggregatorOptions
{
    /// <summary>The keys read from configuration, in the order error messages list them.</summary>
    internal static readonly string[] ConfigurationKeys = [nameof(Timeout), nameof(MaxInFlight), nameof(AbandonedFetchGrace)];

    /// <summary>
    /// Name of the aggregator actor under <c>/user</c>. Valid: a non-empty Akka.NET path element (letters, digits, <c>-_.*$+:@&amp;=,!~';</c>,
    /// not starting with <c>$</c>). Default: the key type's name in kebab case, e.g. <c>dashboard-aggregator</c>. Set in code only.
    /// </summary>
    public string? ActorName { get; set; }

    /// <summary>
    /// The <c>IConfiguration</c> section the other options are read from. Default: <c>Aggregation:</c> followed by the key type's
    /// name without an <c>Aggregator</c> suffix, e.g. <c>Aggregation:Dashboard</c> for <c>DashboardAggregator</c>. Set in code only.
    /// </summary>
    public string? ConfigurationSection { get; set; }

    /// <summary>
    /// Deadline of each request that sets none itself (<see cref="Aggregate{TKey}.Timeout"/>), measured from its arrival.
    /// Replaces the definition's <c>WithTimeout</c>. Valid: a positive duration; in configuration <c>00:00:01</c>, <c>1s</c> or
    /// <c>500ms</c>. Default: the definition's <c>WithTimeout</c>, else <c>actors.aggregation.default-timeout</c> (5 s).
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// The most requests the aggregator runs at once; one more is answered at once with <see cref="RequestRejected"/> (<c>busy</c>).
    /// Valid: 0 (no limit) or a positive integer. Default: <c>actors.aggregation.max-in-flight</c> (10000).
    /// </summary>
    public int? MaxInFlight { get; set; }

    /// <summary>
    /// How long a fetch may keep running after its token fired before it counts as abandoned and is logged at Warning.
    /// Valid: zero or a positive duration; in configuration <c>00:00:00.250</c> or <c>250ms</c>.
    /// Default: <c>actors.aggregation.abandoned-fetch-grace</c> (250 ms).
    /// </summary>
    public TimeSpan? AbandonedFetchGrace { get; set; }

    /// <summary>The default <see cref="ActorName"/> for <paramref name="actorKey"/>: its name in kebab case.</summary>
    public static string DefaultActorName(Type actorKey)
    {
        ArgumentNullException.ThrowIfNull(actorKey);
        var name = new StringBuilder();
        foreach (var c in actorKey.Name)
        {
            if (char.IsUpper(c) && name.Length > 0) name.Append('-');
            name.Append(char.ToLowerInvariant(c));
        }
        return name.ToString();
    }

    /// <summary>The default <see cref="ConfigurationSection"/> for <paramref name="actorKey"/>: <c>Aggregation:</c> and its name without an <c>Aggregator</c> suffix.</summary>
    public static string DefaultConfigurationSection(Type actorKey)
    {
        ArgumentNullException.ThrowIfNull(actorKey);
        var name = actorKey.Name;
        if (name.Length > "Aggregator".Length && name.EndsWith("Aggregator", StringComparison.Ordinal)) name = name[..^"Aggregator".Length];
        return "Aggregation:" + name;
    }

    /// <summary>
    /// Reads <see cref="Timeout"/>, <see cref="MaxInFlight"/> and <see cref="AbandonedFetchGrace"/> from the section at
    /// <paramref name="sectionPath"/>; a missing section or key, or an empty value, stays null. Call it before starting a host to
    /// report bad configuration early: <c>WithAggregator</c> reads the same section when the actor system starts.
    /// </summary>
    /// <exception cref="AggregationConfigurationException">A key is unknown or a value is malformed or out of range; the message names it.</exception>
    public static AggregatorOptions FromConfiguration(IConfiguration configuration, string sectionPath)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        var options = new AggregatorOptions();
        foreach (var entry in configuration.GetSection(sectionPath).GetChildren())
        {
            var path = $"{sectionPath}:{entry.Key}";
            var value = entry.Value;
            if (value is null && entry.GetChildren().Any() && ConfigurationKeys.Contains(entry.Key, StringComparer.OrdinalIgnoreCase))
                throw new AggregationConfigurationException(path, $"{path} must be a single value, not a section.");
            if (string.Equals(entry.Key, nameof(Timeout), StringComparison.OrdinalIgnoreCase))
                options.Timeout = ReadDuration(path, value, allowZero: false);
            else if (string.Equals(entry.Key, nameof(MaxInFlight), StringComparison.OrdinalIgnoreCase))
                options.MaxInFlight = ReadCount(path, value);
            else if (string.Equals(entry.Key, nameof(AbandonedFetchGrace), StringComparison.OrdinalIgnoreCase))
                options.AbandonedFetchGrace = ReadDuration(path, value, allowZero: true);
            else
                throw new AggregationConfigurationException(path,
                    $"{path} is not a known setting; the settings of an aggregator are {string.Join(", ", ConfigurationKeys)}.");
        }
        return options;
    }

    /// <summary>Checks the values given in code; <paramref name="owner"/> prefixes the setting's name in the message.</summary>
    internal void Validate(string owner = nameof(AggregatorOptions))
    {
        if (ActorName is not null && (ActorName.Length == 0 || ActorName[0] == '$' || !ActorPath.IsValidPathElement(ActorName)))
            throw new AggregationConfigurationException($"{owner}.{nameof(ActorName)}",
                $"{owner}.{nameof(ActorName)} must be a valid actor name (letters, digits, -_.*$+:@&=,!~';, not starting with $), but was '{ActorName}'.");
        if (ConfigurationSection is not null && string.IsNullOrWhiteSpace(ConfigurationSection))
            throw new AggregationConfigurationException($"{owner}.{nameof(ConfigurationSection)}",
                $"{owner}.{nameof(ConfigurationSection)} must not be empty; leave it null for the default.");
        if (Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > AggregationSettings.MaxTimeout))
            throw new AggregationConfigurationException($"{owner}.{nameof(Timeout)}",
                $"{owner}.{nameof(Timeout)} must be positive and at most {AggregationSettings.MaxTimeout.TotalDays:0} days, but was {timeout}.");
        if (MaxInFlight is { } max && max < 0)
            throw new AggregationConfigurationException($"{owner}.{nameof(MaxInFlight)}",
                $"{owner}.{nameof(MaxInFlight)} must be 0 (no limit) or positive, but was {max}.");
        if (AbandonedFetchGrace is { } grace && (grace < TimeSpan.Zero || grace > AggregationSettings.MaxTimeout))
            throw new AggregationConfigurationException($"{owner}.{nameof(AbandonedFetchGrace)}",
                $"{owner}.{nameof(AbandonedFetchGrace)} must be between 0 and {AggregationSettings.MaxTimeout.TotalDays:0} days, but was {grace}.");
    }

    /// <summary>These options with every value that <paramref name="higher"/> sets replaced by it.</summary>
    internal AggregatorOptions OverriddenBy(AggregatorOptions higher) => new()
    {
        ActorName = higher.ActorName ?? ActorName,
        ConfigurationSection = higher.ConfigurationSection ?? ConfigurationSection,
        Timeout = higher.Timeout ?? Timeout,
        MaxInFlight = higher.MaxInFlight ?? MaxInFlight,
        AbandonedFetchGrace = higher.AbandonedFetchGrace ?? AbandonedFetchGrace,
    };

    /// <summary><paramref name="settings"/> (read from HOCON) with the values these options set.</summary>
    internal AggregationSettings ApplyTo(AggregationSettings settings)
    {
        if (MaxInFlight is { } max) settings = settings.WithMaxInFlight(max);
        if (AbandonedFetchGrace is { } grace) settings = settings.WithAbandonedFetchGrace(grace);
        return settings;
    }

    /// <summary><paramref name="definition"/> with <see cref="Timeout"/> as its default deadline, when set.</summary>
    internal AggregationDefinition<TKey> ApplyTo<TKey>(AggregationDefinition<TKey> definition) =>
        Timeout is { } timeout ? definition.WithTimeout(timeout) : definition;

    private static TimeSpan? ReadDuration(string path, string? value, bool allowZero)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (!TryParseDuration(value, out var duration) || duration < TimeSpan.Zero || (!allowZero && duration == TimeSpan.Zero)
            || duration > AggregationSettings.MaxTimeout)
            throw new AggregationConfigurationException(path,
                $"{path} must be a {(allowZero ? "non-negative" : "positive")} duration of at most {AggregationSettings.MaxTimeout.TotalDays:0} days, such as 00:00:01, 1s or 250ms, but was '{value}'.");
        return duration;
    }

    private static int? ReadCount(string path, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) || count < 0)
            throw new AggregationConfigurationException(path, $"{path} must be 0 (no limit) or a positive integer, but was '{value}'.");
        return count;
    }

    /// <summary>A TimeSpan (<c>00:00:01.5</c>) or a number with a unit (<c>1.5s</c>, <c>250ms</c>, <c>2m</c>, <c>1h</c>). A bare number is refused: TimeSpan would read <c>5</c> as five days.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        var match = DurationWithUnit().Match(text.Trim());
        if (match.Success && double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            var milliseconds = n * match.Groups["unit"].Value switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" or "min" => 60_000,
                _ => 3_600_000,
            };
            // Far beyond any valid value: refused, rather than overflowing a TimeSpan.
            duration = Math.Abs(milliseconds) < TimeSpan.MaxValue.TotalMilliseconds / 2 ? TimeSpan.FromMilliseconds(milliseconds) : TimeSpan.MaxValue;
            return true;
        }
        duration = default;
        return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out duration);
    }

    [GeneratedRegex(@"^(?<n>-?\d+(\.\d+)?)\s*(?<unit>ms|s|min|m|h)$")]
    private static partial Regex DurationWithUnit();
}
