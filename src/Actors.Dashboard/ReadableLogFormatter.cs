using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Actors.Dashboard;

/// <summary>
/// The console's readable format, <c>[12:00:00 INF] message</c>, ending in the event's trace and span ids when it has them
/// (<c>... trace 4bf9... span 00f0...</c>), so a line leads to its trace. Named by type in <c>Serilog:WriteTo:0:Args:formatter</c>,
/// where <c>Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact</c> switches to JSON (which carries
/// the ids as <c>@tr</c> and <c>@sp</c>).
/// </summary>
public sealed class ReadableLogFormatter : ITextFormatter
{
    private readonly MessageTemplateTextFormatter _line = new("[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}");

    /// <inheritdoc />
    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        _line.Format(logEvent, output);
        if (logEvent.TraceId is { } trace)
        {
            output.Write(" trace ");
            output.Write(trace.ToHexString());
            if (logEvent.SpanId is { } span)
            {
                output.Write(" span ");
                output.Write(span.ToHexString());
            }
        }
        output.WriteLine();
        if (logEvent.Exception is { } exception) output.WriteLine(exception);
    }
}
