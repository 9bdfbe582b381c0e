using System.Globalization;
using System.Text;

namespace Actors.Aggregation.Benchmarks.Harness;

/// <summary>A Markdown table with aligned columns, so the quick run's output can be pasted into the README as is.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Add(params object?[] cells)
    {
        _rows.Add(cells.Select(Format).ToArray());
        return this;
    }

    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        Line(headers);
        text.Append('|');
        foreach (var w in widths) text.Append(' ').Append(new string('-', w)).Append(" |");
        text.AppendLine();
        foreach (var row in _rows) Line(row);
        return text.ToString();

        void Line(string[] cells)
        {
            text.Append('|');
            for (var i = 0; i < cells.Length; i++)
                text.Append(' ').Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i])).Append(" |");
            text.AppendLine();
        }
    }

    private static string Format(object? cell) => cell switch
    {
        null => "",
        double d when double.IsNaN(d) => "n/a",
        double d => d.ToString(d >= 100 ? "N0" : d >= 10 ? "N1" : "N2", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString() ?? "",
    };
}

public static class Units
{
    public static string Kb(double bytes) => (bytes / 1024).ToString("N2", CultureInfo.InvariantCulture) + " KB";

    public static string Ratio(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    public static string Ms(double microseconds) => (microseconds / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    public static string Pct(double fraction) => (fraction >= 0 ? "+" : "") + (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
}
