using System.Globalization;
using System.Net;
using System.Text;

namespace Actors.Dashboard.Requests;

/// <summary>
/// <c>GET /requests</c>: the most recent requests the <see cref="RequestRecorder"/> kept, newest first, each as a waterfall
/// drawn from the library's own spans: the request bar up to the reply, a bar per fetch (the decisive failure marked
/// <c>failed</c>), a <c>token-fired</c> tick where a sibling was told to stop and a <c>stopped</c> tick where it did,
/// abandoned tails and late completions running past the reply, and a vertical line at the reply. Server-rendered HTML with
/// inline CSS, no script. Every request is an element with <c>data-request-id</c>, every fetch bar one with
/// <c>data-fetcher</c> and <c>data-outcome</c>.
/// </summary>
public static class RequestsPage
{
    /// <summary>The page's path.</summary>
    public const string Path = "/requests";

    // The timeline's grid: label column, lane, note column. The reply line is placed in the lane with the same widths.
    private const double LabelRem = 7, NoteRem = 24;

    /// <summary>Maps <c>GET /requests</c>.</summary>
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, (RequestRecorder recorder) => Results.Content(Render(recorder.Recent(), recorder.Capacity), "text/html; charset=utf-8"));

    /// <summary>The page for <paramref name="traces"/> (newest first), of a recorder that keeps <paramref name="capacity"/>.</summary>
    internal static string Render(IReadOnlyList<RequestTrace> traces, int capacity)
    {
        var requests = traces.SelectMany(t => Waterfall.Of(t).Reverse()).ToArray();
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Requests - Actors.Dashboard</title>\n<style>\n")
            .Append(Css)
            .Append("</style>\n</head>\n<body>\n<h1>Requests</h1>\n")
            .Append(CultureInfo.InvariantCulture, $"<p class=\"intro\">The most recent aggregation requests, newest first ({requests.Length} shown, up to {capacity} kept), ")
            .Append("drawn from the library's spans. Times in ms from the request's arrival.</p>\n")
            .Append("<p class=\"legend\"><span class=\"key running\"></span>running <span class=\"key failed\"></span>failed ")
            .Append("<span class=\"key stopping\"></span>told to stop, stopping <span class=\"key abandoned\"></span>abandoned ")
            .Append("<span class=\"key late\"></span>late completion <span class=\"key fired\"></span>token fired ")
            .Append("<span class=\"key reply-key\"></span>reply</p>\n");
        if (requests.Length == 0) html.Append("<p class=\"empty\">No request recorded yet: try GET /dashboard/1.</p>\n");
        foreach (var request in requests) Request(html, request);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void Request(StringBuilder html, Waterfall w)
    {
        var scale = Math.Max(w.EndMs, 1);
        string Pct(double ms) => (Math.Clamp(ms / scale, 0, 1) * 100).ToString("0.###", CultureInfo.InvariantCulture);
        string Width(double fromMs, double toMs) => (Math.Clamp((toMs - fromMs) / scale, 0, 1) * 100).ToString("0.###", CultureInfo.InvariantCulture);

        html.Append(CultureInfo.InvariantCulture, $"<section class=\"request{(w.Failed ? " failed" : "")}\" data-request-id=\"{E(w.RequestId)}\" ")
            .Append(CultureInfo.InvariantCulture, $"data-trace-id=\"{E(w.TraceId.ToHexString())}\" data-key=\"{E(w.Key)}\" data-outcome=\"{E(w.Outcome)}\">\n")
            .Append(CultureInfo.InvariantCulture, $"<h2>aggregate {E(w.Aggregator)} <span class=\"outcome\">{E(w.Outcome)}</span> <span class=\"ms\">{Waterfall.Ms(w.ReplyMs)} ms</span></h2>\n")
            .Append("<dl>")
            .Append(CultureInfo.InvariantCulture, $"<dt>request</dt><dd><code>{E(w.RequestId)}</code></dd>")
            .Append(CultureInfo.InvariantCulture, $"<dt>key</dt><dd><code>{E(w.Key)}</code></dd>")
            .Append(CultureInfo.InvariantCulture, $"<dt>arrived</dt><dd>{E(w.StartUtc.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture))} UTC</dd>")
            .Append(CultureInfo.InvariantCulture, $"<dt>reply</dt><dd class=\"reply-ms\">{Waterfall.Ms(w.ReplyMs)} ms</dd>")
            .Append(CultureInfo.InvariantCulture, $"<dt>trace</dt><dd><code>{E(w.TraceId.ToHexString())}</code></dd>")
            .Append("</dl>\n");
        if (w.StatusDescription is { Length: > 0 } description) html.Append(CultureInfo.InvariantCulture, $"<p class=\"error\">{E(description)}</p>\n");

        html.Append("<div class=\"timeline\">\n");
        Axis(html, scale, Pct);
        html.Append("<div class=\"row\"><div class=\"label\">request</div><div class=\"lane\">")
            .Append(CultureInfo.InvariantCulture, $"<div class=\"bar request{(w.Failed ? " failed" : "")}\" style=\"left:0%;width:{Width(0, w.ReplyMs)}%\" ")
            .Append(CultureInfo.InvariantCulture, $"title=\"request {E(w.Outcome)}: 0.0 to {Waterfall.Ms(w.ReplyMs)} ms\"></div>")
            .Append(CultureInfo.InvariantCulture, $"</div><div class=\"note\">{E(w.Outcome)} {Waterfall.Ms(w.ReplyMs)} ms</div></div>\n");
        foreach (var fetch in w.Fetches) Fetch(html, fetch, Pct, Width);
        var reply = (w.ReplyMs / scale).ToString("0.#####", CultureInfo.InvariantCulture);
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"reply\" style=\"left:calc({LabelRem}rem + (100% - {LabelRem + NoteRem}rem) * {reply})\" ")
            .Append(CultureInfo.InvariantCulture, $"title=\"reply at {Waterfall.Ms(w.ReplyMs)} ms\"><span>reply {Waterfall.Ms(w.ReplyMs)} ms</span></div>\n")
            .Append("</div>\n</section>\n");
    }

    private static void Fetch(StringBuilder html, WaterfallBar f, Func<double, string> pct, Func<double, double, string> width)
    {
        var label = f.Attempt > 1 ? $"{f.Fetcher} #{f.Attempt}" : f.Fetcher;
        var barEnd = Math.Max(f.EndMs, f.StartMs);
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"row\"><div class=\"label\">{E(label)}</div><div class=\"lane\">")
            .Append(CultureInfo.InvariantCulture, $"<div class=\"bar fetch{(f.Failed ? " failed" : "")}\" data-fetcher=\"{E(f.Fetcher)}\" data-outcome=\"{E(f.Outcome)}\" ")
            .Append(CultureInfo.InvariantCulture, $"data-attempt=\"{f.Attempt}\" style=\"left:{pct(f.StartMs)}%;width:{width(f.StartMs, barEnd)}%\" ")
            .Append(CultureInfo.InvariantCulture, $"title=\"{E(label)} {E(f.Outcome)}: {Waterfall.Ms(f.StartMs)} to {Waterfall.Ms(f.EndMs)} ms\">");
        if (f.TokenFiredMs is { } fired)
        {
            // Inside the bar, in percent of the bar: the part after the token fired, then the tick where it fired.
            var within = f.DurationMs > 0 ? (fired - f.StartMs) / f.DurationMs * 100 : 100;
            var at = within.ToString("0.###", CultureInfo.InvariantCulture);
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"{(f.IsAbandoned ? "abandoned" : "stopping")}\" style=\"left:{at}%\"></div>")
                .Append(CultureInfo.InvariantCulture, $"<div class=\"token-fired\" style=\"left:{at}%\" title=\"token fired at {Waterfall.Ms(fired)} ms\"></div>");
        }
        html.Append("</div>");
        if (f.Late is { } late)
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"bar late\" data-fetcher=\"{E(f.Fetcher)}\" data-outcome=\"{E(late.Outcome)}\" ")
                .Append(CultureInfo.InvariantCulture, $"style=\"left:{pct(late.StartMs)}%;width:{width(late.StartMs, late.EndMs)}%\" ")
                .Append(CultureInfo.InvariantCulture, $"title=\"late completion ({E(late.Outcome)}): {Waterfall.Ms(late.StartMs)} to {Waterfall.Ms(late.EndMs)} ms\"></div>");
        if (f.TokenFiredMs is not null && f.StoppedMs is { } stopped)
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"stopped\" style=\"left:{pct(stopped)}%\" title=\"stopped at {Waterfall.Ms(stopped)} ms\"></div>");
        html.Append(CultureInfo.InvariantCulture, $"</div><div class=\"note\">{E(Note(f))}</div></div>\n");
    }

    /// <summary>The fetch's outcome in words: its duration, why it was told to stop and how long it took to.</summary>
    private static string Note(WaterfallBar f)
    {
        var note = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{f.Outcome} {Waterfall.Ms(f.DurationMs)} ms");
        if (f.ErrorType is { } error) note.Append(CultureInfo.InvariantCulture, $", {ShortType(error)}");
        if (f.Cause is { } cause) note.Append(CultureInfo.InvariantCulture, $", {cause}{(f.CauseFetcher is { } by ? $" ({by})" : "")}");
        // A late completion says how late itself (late_ms, from the token firing); otherwise the cancellation's own latency.
        if (f.TokenFiredMs is { } fired && f.Late is null)
            note.Append(f.StoppedMs is { } stopped
                ? string.Create(CultureInfo.InvariantCulture, $", stopped {Waterfall.Ms(stopped - fired)} ms after its token")
                : ", still running");
        if (f.Late?.LateMs is { } lateMs) note.Append(CultureInfo.InvariantCulture, $", late by {Waterfall.Ms(lateMs)} ms");
        return note.ToString();
    }

    private static string ShortType(string type) => type[(type.LastIndexOf('.') + 1)..];

    /// <summary>A scale of round steps (1, 2 or 5 times a power of ten), at most about eight ticks.</summary>
    private static void Axis(StringBuilder html, double scale, Func<double, string> pct)
    {
        var step = Math.Pow(10, Math.Floor(Math.Log10(scale / 8)));
        foreach (var factor in new[] { 1, 2, 5, 10 })
            if (scale / (step * factor) <= 8)
            {
                step *= factor;
                break;
            }
        html.Append("<div class=\"row axis\"><div class=\"label\">ms</div><div class=\"lane\">");
        for (var t = 0.0; t <= scale + 1e-9; t += step)
            html.Append(CultureInfo.InvariantCulture, $"<span class=\"tick\" style=\"left:{pct(t)}%\">{t.ToString("0.#", CultureInfo.InvariantCulture)}</span>");
        html.Append("</div><div class=\"note\"></div></div>\n");
    }

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static readonly string Css = $$"""
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
        h1{font-size:1.5rem;margin:0 0 .25rem}
        .intro,.legend{color:#57606a;margin:.25rem 0}
        .legend .key{display:inline-block;width:1.4rem;height:.7rem;margin:0 .3rem 0 .8rem;vertical-align:middle;border-radius:2px}
        .legend .key:first-child{margin-left:0}
        .key.running{background:#2f81f7}.key.failed{background:#cf222e}.key.stopping{background:#9ec5fe}
        .key.abandoned,.abandoned{background:repeating-linear-gradient(135deg,#bf8700 0 3px,#f5d78e 3px 6px)}
        .key.late,.bar.late{background:repeating-linear-gradient(135deg,#d4a72c55 0 3px,transparent 3px 6px);border:1px dashed #9a6700;box-sizing:border-box}
        .legend .key.fired{width:3px;height:1rem;background:#1f2328;border-radius:0}.legend .key.reply-key{width:0;height:1rem;border-left:2px dashed #8250df;border-radius:0}
        section.request{border:1px solid #d0d7de;border-radius:6px;padding:.75rem 1rem 1.1rem;margin:1rem 0;max-width:1400px}
        section.request.failed{border-color:#ff818266}
        h2{font-size:1rem;margin:0 0 .4rem}
        h2 .outcome{font-weight:600;padding:0 .4rem;border-radius:1rem;background:#dafbe1;color:#1a7f37}
        section.request.failed h2 .outcome{background:#ffebe9;color:#cf222e}
        h2 .ms{font-weight:400;color:#57606a}
        dl{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:0 0 .4rem;color:#57606a}
        dt{font-weight:600}dd{margin:0 0 0 -.8rem}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
        .error{margin:0 0 .5rem;color:#cf222e;font-size:13px}
        .timeline{position:relative;padding-top:.2rem}
        .row{display:grid;grid-template-columns:{{LabelRem}}rem minmax(0,1fr) {{NoteRem}}rem;align-items:center;height:1.9rem}
        .label{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding-right:.5rem}
        .lane{position:relative;height:100%;border-left:1px solid #d0d7de}
        .note{padding-left:.8rem;font-size:11px;line-height:1.15;color:#57606a;max-height:1.9rem;overflow:hidden}
        .axis{height:1.2rem;color:#8c959f;font-size:11px}
        .axis .lane{border-bottom:1px solid #d0d7de}
        .tick{position:absolute;bottom:0;transform:translateX(-50%);padding:0 2px}
        .bar{position:absolute;top:.5rem;height:.9rem;min-width:2px;border-radius:2px;background:#2f81f7}
        .bar.request{background:#8250df}
        .bar.failed{background:#cf222e}
        .bar .stopping,.bar .abandoned{position:absolute;top:0;bottom:0;right:0;border-radius:0 2px 2px 0}
        .bar .stopping{background:#9ec5fe}
        .token-fired{position:absolute;top:-.3rem;bottom:-.3rem;width:3px;margin-left:-1px;background:#1f2328}
        .stopped{position:absolute;top:.3rem;height:1.3rem;width:0;margin-left:-1px;border-left:2px solid #57606a}
        .reply{position:absolute;top:1.2rem;bottom:0;width:0;border-left:2px dashed #8250df;pointer-events:none}
        .reply span{position:absolute;bottom:-1.1rem;left:.2rem;font-size:11px;color:#8250df;white-space:nowrap}
        .empty{color:#57606a;font-style:italic}

        """;
}
