using System.Text;

namespace Actors.Aggregation;

/// <summary>
/// The parts of one request, by fetcher name and in declared order, as handed to <c>Combine</c>.
/// Only valid during the <c>Combine</c> call that receives it.
/// </summary>
public sealed class AggregationParts
{
    private readonly IReadOnlyList<string> _names;
    private readonly object?[] _values;

    internal AggregationParts(IReadOnlyList<string> names, object?[] values)
    {
        _names = names;
        _values = values;
    }

    /// <summary>The number of parts, equal to the number of fetchers.</summary>
    public int Count => _values.Length;

    /// <summary>The fetchers' names in declared order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The part at <paramref name="index"/> in declared order (boxed).</summary>
    public object? this[int index] => _values[index];

    /// <summary>The part of the fetcher named <paramref name="name"/> (boxed).</summary>
    /// <exception cref="KeyNotFoundException">No fetcher has that name.</exception>
    public object? this[string name] => _values[IndexOf(name)];

    /// <summary>The part of the fetcher named <paramref name="name"/>, as <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">No fetcher has that name.</exception>
    /// <exception cref="InvalidCastException">The part is not a <typeparamref name="T"/>.</exception>
    public T Get<T>(string name)
    {
        var value = _values[IndexOf(name)];
        if (value is T typed) return typed;
        if (value is null && default(T) is null) return default!;
        throw new InvalidCastException($"Part '{name}' is {(value is null ? "null" : value.GetType().Name)}, not {typeof(T).Name}.");
    }

    /// <summary>The part at <paramref name="index"/> in declared order, as <typeparamref name="T"/>.</summary>
    public T Get<T>(int index) => (T)_values[index]!;

    private int IndexOf(string name)
    {
        for (var i = 0; i < _names.Count; i++)
            if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
        throw new KeyNotFoundException($"No fetcher is named '{name}'. Fetchers: {string.Join(", ", _names)}.");
    }

    /// <summary>The default combination: each part's text joined with <c>" | "</c> in declared order; a null part is empty text.</summary>
    internal static string JoinText(AggregationParts parts)
    {
        var text = new StringBuilder();
        for (var i = 0; i < parts._values.Length; i++)
        {
            if (i > 0) text.Append(" | ");
            text.Append(parts._values[i]);
        }
        return text.ToString();
    }
}
