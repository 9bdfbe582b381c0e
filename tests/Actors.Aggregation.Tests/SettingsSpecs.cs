using Akka.Configuration;
using Xunit;

namespace Actors.Aggregation.Tests;

/// <summary>k. Defaults come from the embedded HOCON; configuration overrides them; values given in code win.</summary>
public sealed class SettingsSpecs
{
    [Fact]
    public void The_embedded_reference_config_must_supply_every_default()
    {
        var settings = AggregationSettings.Create(Config.Empty);

        Assert.Equal(TimeSpan.FromSeconds(5), settings.DefaultTimeout);
        Assert.Equal(10_000, settings.MaxInFlight);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.AbandonedFetchGrace);
        Assert.Equal(TimeSpan.FromSeconds(5), AggregationSettings.DefaultConfig().GetTimeSpan("actors.aggregation.default-timeout"));
    }

    [Fact]
    public void Configuration_must_override_the_defaults_and_code_must_override_configuration()
    {
        var section = ConfigurationFactory.ParseString("default-timeout = 2s\nmax-in-flight = 7");

        var settings = AggregationSettings.Create(section);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.DefaultTimeout);
        Assert.Equal(7, settings.MaxInFlight);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.AbandonedFetchGrace);

        var fromCode = settings.WithDefaultTimeout(TimeSpan.FromMilliseconds(300)).WithMaxInFlight(0);
        Assert.Equal(TimeSpan.FromMilliseconds(300), fromCode.DefaultTimeout);
        Assert.Equal(0, fromCode.MaxInFlight);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.DefaultTimeout);
    }

    [Theory]
    [InlineData("default-timeout = 0s", "default-timeout")]
    [InlineData("default-timeout = -1s", "default-timeout")]
    [InlineData("max-in-flight = -3", "max-in-flight")]
    [InlineData("abandoned-fetch-grace = -1ms", "abandoned-fetch-grace")]
    [InlineData("default-timeout = soon", "actors.aggregation")]
    public void Invalid_settings_must_fail_with_an_error_naming_the_setting(string hocon, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => AggregationSettings.Create(ConfigurationFactory.ParseString(hocon)));
        Assert.Contains(named, error.Message);
    }
}
