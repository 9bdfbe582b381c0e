using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Tests.Shared;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Xunit;
using LogLevel = Akka.Event.LogLevel;

namespace Actors.Aggregation.Tests;

/// <summary>j. The library's structured events reach Serilog through Akka.Hosting's logger-factory bridge, properties intact.</summary>
public sealed class LoggingSpecs
{
    private sealed class Dashboard;

    /// <summary>Collects events and lets a test await the first one that matches.</summary>
    private sealed class CollectingSink : ILogEventSink
    {
        private readonly List<(Func<LogEvent, bool> Match, TaskCompletionSource<LogEvent> Found)> _waiters = new();

        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent)
        {
            lock (_waiters)
            {
                Events.Enqueue(logEvent);
                foreach (var waiter in _waiters)
                    if (waiter.Match(logEvent)) waiter.Found.TrySetResult(logEvent);
            }
        }

        public Task<LogEvent> WaitFor(Func<LogEvent, bool> match)
        {
            var found = new TaskCompletionSource<LogEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                _waiters.Add((match, found));
                foreach (var logEvent in Events)
                    if (match(logEvent)) found.TrySetResult(logEvent);
            }
            return found.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Aggregation_events_must_reach_Serilog_with_RequestId_Fetcher_ElapsedMs_and_Outcome()
    {
        var sink = new CollectingSink();
        using var host = Host(sink, LogLevel.DebugLevel, Fetches.After<int, string>(TimeSpan.FromMilliseconds(10), "Name: Alice"));
        await host.StartAsync();
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<Dashboard>>().GetAsync();

            Assert.Equal("Name: Alice | Order: 5", await aggregator.AggregateAsync<int, string>(1));
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(0));

            var succeeded = await sink.WaitFor(e => Has(e, LogEventLevel.Information, "Outcome", "succeeded"));
            var failed = await sink.WaitFor(e => Has(e, LogEventLevel.Warning, "Outcome", "fetcher-failed"));
            var fetch = await sink.WaitFor(e => Has(e, LogEventLevel.Debug, "Fetcher", "profile"));

            Assert.True(succeeded.Properties.ContainsKey("RequestId"));
            Assert.True(succeeded.Properties.ContainsKey("ElapsedMs"));
            Assert.Contains("orders down", failed.RenderMessage());
            Assert.True(fetch.Properties.ContainsKey("RequestId"));
            Assert.True(fetch.Properties.ContainsKey("ElapsedMs"));
            // Akka's own log reaches Serilog the same way, e.g. the actor system's startup events.
            await sink.WaitFor(e => e.MessageTemplate.Text.Contains("Akka", StringComparison.OrdinalIgnoreCase) && !e.Properties.ContainsKey("Outcome"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_requesters_own_cancel_must_be_Information_and_elapsed_times_must_have_one_decimal()
    {
        var sink = new CollectingSink();
        using var host = Host(sink, LogLevel.InfoLevel, Fetches.Hang<int, string>());
        await host.StartAsync();
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<Dashboard>>().GetAsync();
            using var gone = new CancellationTokenSource();
            var request = aggregator.AggregateAsync<int, string>(1, cancellationToken: gone.Token);
            await gone.CancelAsync(); // a client that went away: routine, not a warning
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
            await Assert.ThrowsAsync<AggregationFailedException>(() => aggregator.AggregateAsync<int, string>(0));

            var cancelled = await sink.WaitFor(e => Has(e, LogEventLevel.Information, "Outcome", "cancelled"));
            var failed = await sink.WaitFor(e => Has(e, LogEventLevel.Warning, "Outcome", "fetcher-failed"));

            Assert.Contains("cancelled by the requester", cancelled.RenderMessage());
            Assert.DoesNotContain(sink.Events, e => e.Level >= LogEventLevel.Warning && Has(e, e.Level, "Outcome", "cancelled"));
            foreach (var logged in new[] { cancelled, failed })
            {
                var elapsed = Assert.IsType<ScalarValue>(logged.Properties["ElapsedMs"]).Value;
                Assert.Equal(Math.Round(Convert.ToDouble(elapsed, System.Globalization.CultureInfo.InvariantCulture), 1), elapsed);
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_traced_requests_events_must_carry_the_trace_and_span_ids_of_their_request_and_fetch_spans()
    {
        var sink = new CollectingSink();
        using var host = Host(sink, LogLevel.DebugLevel, Fetches.After<int, string>(TimeSpan.FromMilliseconds(5), "Name: Alice"));
        await host.StartAsync();
        ActivityTraceId? trace = null;
        using var spans = new SpanRecorder(() => trace);
        try
        {
            var aggregator = await host.Services.GetRequiredService<IRequiredActor<Dashboard>>().GetAsync();
            using (var caller = SpanRecorder.Caller.StartActivity("GET /dashboard/1"))
            {
                trace = caller!.TraceId;
                Assert.IsType<AggregateSucceeded<string>>(
                    await aggregator.Ask<IAggregateReply>(new Aggregate<int>(1) { RequestId = "traced-log" }, TimeSpan.FromSeconds(10)));
            }

            var logged = await sink.WaitFor(e => Has(e, LogEventLevel.Information, "RequestId", "traced-log"));
            var request = Assert.Single(spans.Stopped, a => a.OperationName == "aggregate dashboard");
            Assert.Equal(request.TraceId.ToHexString(), Assert.IsType<ScalarValue>(logged.Properties["TraceId"]).Value?.ToString());
            Assert.Equal(request.SpanId.ToHexString(), Assert.IsType<ScalarValue>(logged.Properties["SpanId"]).Value?.ToString());

            // Each fetch's Debug event names the fetch's own span.
            var fetched = await sink.WaitFor(e => Has(e, LogEventLevel.Debug, "RequestId", "traced-log") && Has(e, LogEventLevel.Debug, "Fetcher", "profile"));
            var fetch = Assert.Single(spans.Stopped, a => a.OperationName == "fetch profile");
            Assert.Equal(request.TraceId.ToHexString(), Assert.IsType<ScalarValue>(fetched.Properties["TraceId"]).Value?.ToString());
            Assert.Equal(fetch.SpanId.ToHexString(), Assert.IsType<ScalarValue>(fetched.Properties["SpanId"]).Value?.ToString());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// A real host: Serilog into <paramref name="sink"/>, Akka's log through Akka.Hosting's logger factory at
    /// <paramref name="akkaLevel"/>, and a dashboard aggregator whose orders fetch fails for key 0.
    /// </summary>
    private static IHost Host(CollectingSink sink, LogLevel akkaLevel, Func<int, CancellationToken, Task<string>> profile)
    {
        var definition = Aggregation.For<int>()
            .Fetch("profile", profile)
            .Fetch("orders", (int id, CancellationToken _) => id == 0 ? throw new InvalidOperationException("orders down") : Task.FromResult("Order: 5"))
            .Build();
        return new HostBuilder()
            .UseSerilog(new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(sink).CreateLogger(), dispose: true)
            .ConfigureServices(services => services.AddAkka("logging-spec", akka => akka
                .ConfigureLoggers(loggers =>
                {
                    loggers.LogLevel = akkaLevel;
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                })
                .WithActors((system, registry) => registry.Register<Dashboard>(system.ActorOf(AggregatorActor.Props(definition), "dashboard")))))
            .Build();
    }

    private static bool Has(LogEvent e, LogEventLevel level, string property, string value) =>
        e.Level == level && e.Properties.TryGetValue(property, out var p) && p is ScalarValue { Value: var v } && Equals(v?.ToString(), value);
}
