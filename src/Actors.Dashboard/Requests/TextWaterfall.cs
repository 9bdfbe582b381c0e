using System.Text;

namespace Actors.Dashboard.Requests;

/// <summary>
/// A <see cref="Waterfall"/> as fixed-width text, one line per bar: <c>#</c> running, <c>x</c> the failing fetch, <c>|</c>
/// where its token fired, <c>-</c> stopping after it, <c>~</c> an abandoned tail, <c>+</c> its late completion, and a last
/// line with <c>^</c> at the reply.
/// </summary>
public static class TextWaterfall
{
    /// <summary>The bars' width in characters, for the request's whole span of time.</summary>
    public const int Columns = 60;

    /// <summary>The characters and what they mean, as the first line says it.</summary>
    public const string Legend = "# running, x failed, | token fired, - stopping, ~ abandoned, + late completion, ^ reply";

    /// <summary>The lines of <paramref name="waterfall"/>, each starting with <paramref name="indent"/>.</summary>
    public static IReadOnlyList<string> Render(Waterfall waterfall, string indent = "")
    {
        ArgumentNullException.ThrowIfNull(waterfall);
        var scale = Math.Max(waterfall.EndMs, 1);
        var perColumn = scale / Columns;
        var labels = waterfall.Fetches.Select(Label).Append("request").ToArray();
        var width = labels.Max(l => l.Length) + 2;
        var lines = new List<string> { $"{indent}{Waterfall.Ms(perColumn)} ms a column: {Legend}" };
        // Durations right-aligned, so that their units line up.
        var msWidth = waterfall.Fetches.Select(f => f.DurationMs).Append(waterfall.ReplyMs).Max(ms => Waterfall.Ms(ms).Length);
        string Ms(double ms) => Waterfall.Ms(ms).PadLeft(msWidth);

        var request = Blank();
        Fill(request, 0, waterfall.ReplyMs, '#');
        lines.Add(Line("request", request, $"{Ms(waterfall.ReplyMs)} ms  {waterfall.Outcome}"));
        foreach (var fetch in waterfall.Fetches)
        {
            var bar = Blank();
            Fill(bar, fetch.StartMs, fetch.EndMs, fetch.Failed ? 'x' : '#');
            if (fetch.TokenFiredMs is { } fired)
            {
                Fill(bar, fired, fetch.EndMs, fetch.IsAbandoned ? '~' : '-');
                bar[Column(fired, last: false)] = '|';
            }
            if (fetch.Late is { } late) Fill(bar, late.StartMs, late.EndMs, '+');
            var note = $"{Ms(fetch.DurationMs)} ms  {fetch.Outcome}"
                + (fetch.Cause is { } cause ? $" ({cause}{(fetch.CauseFetcher is { } by ? $": {by}" : "")})" : "")
                + (fetch.TokenFiredMs is { } t && fetch.Late is null && fetch.StoppedMs is { } s ? $", stopped {Waterfall.Ms(s - t)} ms after its token" : "")
                + (fetch.Late?.LateMs is { } lateMs ? $", late by {Waterfall.Ms(lateMs)} ms" : "");
            lines.Add(Line(Label(fetch), bar, note));
        }
        var reply = Blank();
        reply[Column(waterfall.ReplyMs, last: true)] = '^';
        lines.Add(Line("reply", reply, $"{Ms(waterfall.ReplyMs)} ms"));
        return lines;

        char[] Blank() => Enumerable.Repeat(' ', Columns).ToArray();

        // The column a time falls in; an end time (last) belongs to the column it closes.
        int Column(double ms, bool last) =>
            Math.Clamp((int)(last ? Math.Ceiling(ms / perColumn) - 1 : Math.Floor(ms / perColumn)), 0, Columns - 1);

        void Fill(char[] bar, double fromMs, double toMs, char c)
        {
            var from = Column(fromMs, last: false);
            for (var i = from; i <= Math.Max(from, Column(toMs, last: true)); i++) bar[i] = c;
        }

        string Line(string label, char[] bar, string note) => $"{indent}{label.PadRight(width)}{new string(bar)}  {note}".TrimEnd();
    }

    private static string Label(WaterfallBar fetch) => fetch.Attempt > 1 ? $"{fetch.Fetcher} #{fetch.Attempt}" : fetch.Fetcher;
}
