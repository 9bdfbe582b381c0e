namespace Actors.Aggregation.Hosting;

/// <summary>
/// An aggregator's options are invalid: a value out of range or malformed, or a key nobody reads. The message is one line
/// that names the setting (for example <c>Aggregation:Dashboard:Timeout must be a positive duration ...</c>), fit to show a
/// user as it is; <see cref="Setting"/> holds the name alone.
/// </summary>
public sealed class AggregationConfigurationException : Exception
{
    /// <summary>Creates the exception for <paramref name="setting"/>.</summary>
    /// <param name="setting">The setting's full name: a configuration path such as <c>Aggregation:Dashboard:Timeout</c>,
    /// or an options property such as <c>AggregatorOptions.Timeout</c>.</param>
    /// <param name="message">One line that names the setting and says what is wrong.</param>
    public AggregationConfigurationException(string setting, string message) : base(message)
    {
        ArgumentNullException.ThrowIfNull(setting);
        Setting = setting;
    }

    /// <summary>The setting's full name.</summary>
    public string Setting { get; }
}
