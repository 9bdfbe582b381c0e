using System.Text;

namespace Actors.Aggregation;

/// <summary>
/// The parts of one request, by fetcher name and in declared order, as handed to <c>Combine</c>. Under
/// <see cref="CompletionPolicy.FailFast"/> every part is present; under the other policies only the parts that succeeded
/// are (use <see cref="Has"/> or <see cref="TryGet{T}"/>). An optional part that fell back holds its fallback value in its
/// place (or is absent under <see cref="Fallback.Omit"/>); <see cref="IsFallback"/> tells it from a real part. Only valid
/// during the <c>Combine</c> call that receives it.
/// </summary>
public sealed class AggregationParts
{
    private readonly IReadOnlyList<string> _names;
    private readonly object?[] _values;
    private readonly bool[]? _present;
    private readonly bool[]? _fellBack;

    internal AggregationParts(IReadOnlyList<string> names, object?[] values, bool[]? present = null, bool[]? fellBack = null)
    {
        _names = names;
        _values = values;
        _present = present;
        _fellBack = fellBack;
    }

    /// <summary>The number of declared fetchers (present or not).</summary>
    public int Count => _values.Length;

    /// <summary>The fetchers' names in declared order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The names of the parts that are present, in declared order.</summary>
    public IReadOnlyList<string> Present => _present is null ? _names : _names.Where((_, i) => _present[i]).ToArray();

    /// <summary>The part at <paramref name="index"/> in declared order (boxed).</summary>
    /// <exception cref="KeyNotFoundException">That part is not present.</exception>
    public object? this[int index] => IsPresent(index) ? _values[index] : throw Missing(_names[index]);

    /// <summary>The part of the fetcher named <paramref name="name"/> (boxed).</summary>
    /// <exception cref="KeyNotFoundException">No fetcher has that name, or its part did not succeed.</exception>
    public object? this[string name] => this[IndexOf(name)];

    /// <summary>True when the part of the fetcher named <paramref name="name"/> is here: it succeeded, or fell back to a value.</summary>
    public bool Has(string name) => IsPresent(IndexOf(name));

    /// <summary>True when the fetcher named <paramref name="name"/> is optional and fell back: its part, if present, is the fallback value.</summary>
    /// <exception cref="KeyNotFoundException">No fetcher has that name.</exception>
    public bool IsFallback(string name) => _fellBack is not null && _fellBack[IndexOf(name)];

    /// <summary>The names of the optional parts that fell back, in declared order; empty when every part is real.</summary>
    public IReadOnlyList<string> FellBack => _fellBack is null ? [] : _names.Where((_, i) => _fellBack[i]).ToArray();

    /// <summary>The part of the fetcher named <paramref name="name"/>, as <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">No fetcher has that name, or its part did not succeed.</exception>
    /// <exception cref="InvalidCastException">The part is not a <typeparamref name="T"/>.</exception>
    public T Get<T>(string name) => Cast<T>(name, this[name]);

    /// <summary>The part at <paramref name="index"/> in declared order, as <typeparamref name="T"/>.</summary>
    public T Get<T>(int index) => Cast<T>(_names[index], this[index]);

    /// <summary>The part of the fetcher named <paramref name="name"/> when it is present.</summary>
    public bool TryGet<T>(string name, out T value)
    {
        var index = IndexOf(name);
        if (!IsPresent(index))
        {
            value = default!;
            return false;
        }
        value = Cast<T>(name, _values[index]);
        return true;
    }

    private bool IsPresent(int index) => _present is null || _present[index];

    private static T Cast<T>(string name, object? value)
    {
        if (value is T typed) return typed;
        if (value is null && default(T) is null) return default!;
        throw new InvalidCastException($"Part '{name}' is {(value is null ? "null" : value.GetType().Name)}, not {typeof(T).Name}.");
    }

    private KeyNotFoundException Missing(string name) =>
        new(_fellBack is not null && _fellBack[IndexOf(name)]
            ? $"Part '{name}' is not present: that optional fetcher fell back without a value."
            : $"Part '{name}' is not present: that fetcher did not succeed.");

    private int IndexOf(string name)
    {
        for (var i = 0; i < _names.Count; i++)
            if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
        throw new KeyNotFoundException($"No fetcher is named '{name}'. Fetchers: {string.Join(", ", _names)}.");
    }

    /// <summary>The default combination: each present part's text joined with <c>" | "</c> in declared order; a null part is empty text.</summary>
    internal static string JoinText(AggregationParts parts)
    {
        var text = new StringBuilder();
        var first = true;
        for (var i = 0; i < parts._values.Length; i++)
        {
            if (!parts.IsPresent(i)) continue;
            if (!first) text.Append(" | ");
            text.Append(parts._values[i]);
            first = false;
        }
        return text.ToString();
    }
}
