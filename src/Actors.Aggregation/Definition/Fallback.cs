namespace Actors.Aggregation;

/// <summary>
/// What an optional part becomes when it fails or runs out of time (<see cref="FetchOptions.Fallback"/>): a value that
/// <c>Combine</c> sees in the part's place, or nothing. Either way the reply names the part as fallen back
/// (<see cref="PartStatus.FellBack"/>), with why, and <see cref="AggregationParts.IsFallback"/> tells it from a real part.
/// </summary>
public sealed class Fallback
{
    private Fallback(bool hasValue, object? value, Type? type)
    {
        HasValue = hasValue;
        Value = value;
        ValueType = type;
    }

    /// <summary>Go on without the part: <c>Combine</c> finds it absent (<see cref="AggregationParts.Has"/> is false).</summary>
    public static Fallback Omit { get; } = new(false, null, null);

    /// <summary>Go on with <paramref name="value"/> in the part's place; it must be of the fetch's part type (checked at <c>Build</c>).</summary>
    public static Fallback To<T>(T value) => new(true, value, typeof(T));

    /// <summary>True when the part falls back to a value; false when it is omitted.</summary>
    public bool HasValue { get; }

    /// <summary>The fallback value, when <see cref="HasValue"/>.</summary>
    public object? Value { get; }

    internal Type? ValueType { get; }

    /// <inheritdoc />
    public override string ToString() => HasValue ? $"Fallback.To({Value ?? "null"})" : "Fallback.Omit";
}
