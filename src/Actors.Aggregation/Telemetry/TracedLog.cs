using System.Diagnostics;
using Akka.Event;

namespace Actors.Aggregation;

/// <summary>
/// Log events that name the span they belong to: while a request is traced, an event about it ends in
/// <c>(trace {TraceId}, span {SpanId})</c>, so a log line leads to its trace and back. Akka logs on its own thread, where
/// <see cref="Activity.Current"/> is not the request's, so the ids travel as properties of the event.
/// </summary>
internal static class TracedLog
{
    private const string Suffix = " (trace {TraceId}, span {SpanId})";

    /// <summary>Logs <paramref name="template"/> at <paramref name="level"/>, with <paramref name="span"/>'s ids when it is not null.</summary>
    public static void Write(ILoggingAdapter log, Activity? span, LogLevel level, string template, params object[] values)
    {
        if (!log.IsEnabled(level)) return;
        if (span is null)
        {
            log.Log(level, template, values);
            return;
        }
        var traced = new object[values.Length + 2];
        values.CopyTo(traced, 0);
        traced[^2] = span.TraceId.ToHexString();
        traced[^1] = span.SpanId.ToHexString();
        log.Log(level, template + Suffix, traced);
    }
}
