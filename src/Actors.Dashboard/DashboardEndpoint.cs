using System.Diagnostics;
using Actors.Aggregation;
using Akka.Hosting;

namespace Actors.Dashboard;

/// <summary>
/// <c>GET /dashboard/{id}</c>: runs the aggregation. 200 with the combined text (with <see cref="FallbackHeader"/> when an
/// optional part fell back); otherwise an RFC 7807 ProblemDetails body
/// whose <c>cause</c> names the failure and whose <c>failedFetcher</c> or <c>pendingFetchers</c> name the fetchers involved:
/// 502 FetcherFailed, 504 DeadlineExceeded, 503 RequestRejected, AggregationCancelled or NodeFailed, 500 CombineFailed.
/// Every answer names its aggregation request (<see cref="RequestIdHeader"/>, the id in the library's log events) and its
/// trace (<see cref="TraceIdHeader"/>, the W3C trace id of the HTTP request's activity, in every Serilog line of the request);
/// a ProblemDetails body carries both too, as <c>requestId</c> and <c>traceId</c>.
/// </summary>
public static class DashboardEndpoint
{
    /// <summary>
    /// The header of a 200 answer some of whose parts fell back (an optional <c>orders</c> part whose service failed): the
    /// fetchers' names, comma-separated. The body shows the fallback in the part's place.
    /// </summary>
    public const string FallbackHeader = "X-Aggregation-Fallback";

    /// <summary>The header naming the aggregation request that answered: its <see cref="IAggregateReply.RequestId"/>.</summary>
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>The header naming the trace of the answer: the 32-hex-digit W3C trace id.</summary>
    public const string TraceIdHeader = "X-Trace-Id";

    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/dashboard/{id:int}", HandleAsync);

    private static async Task<IResult> HandleAsync(int id, HttpContext context, IRequiredActor<DashboardAggregator> required,
        IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var instance = context.Request.Path.Value;
        var traceId = TraceId();
        if (traceId is not null) context.Response.Headers[TraceIdHeader] = traceId;
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return Problem(StatusCodes.Status503ServiceUnavailable, "The dashboard is shutting down", "The host is stopping; no new aggregation starts.",
                instance, "ShuttingDown", 0, null, traceId);

        var started = Stopwatch.GetTimestamp();
        try
        {
            var aggregator = await required.GetAsync(context.RequestAborted);
            // The client's disconnect cancels the aggregation, and through it both downstream requests.
            var reply = await aggregator.AggregateReplyAsync(id, cancellationToken: context.RequestAborted);
            context.Response.Headers[RequestIdHeader] = reply.RequestId;
            switch (reply)
            {
                case AggregateSucceeded<string> succeeded:
                    if (succeeded.FellBack.Count > 0)
                        context.Response.Headers[FallbackHeader] = string.Join(", ", succeeded.FellBack.Select(p => p.Fetcher));
                    return Results.Text(succeeded.Result);
                case AggregateFailed failed:
                    return ProblemFor(failed.Reason, instance, Stopwatch.GetElapsedTime(started).TotalMilliseconds, failed.RequestId, traceId);
                case var other:
                    throw new InvalidOperationException($"The dashboard's aggregator answered {other.GetType().Name}, not AggregateSucceeded<string>.");
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(DashboardEndpoint)).LogInformation(
                "GET {Path}: the client went away after {ElapsedMs:0} ms; its aggregation was cancelled", instance, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return Results.Empty;
        }
    }

    /// <summary>The ProblemDetails answer for <paramref name="reason"/>.</summary>
    internal static IResult ProblemFor(AggregationFailure reason, string? instance, double elapsedMs, string? requestId, string? traceId) => reason switch
    {
        FetcherFailed f => Problem(StatusCodes.Status502BadGateway, "A downstream fetcher failed",
            $"{f.Describe()}; the other fetchers were cancelled.", instance, nameof(FetcherFailed), elapsedMs, requestId, traceId,
            new() { ["failedFetcher"] = f.Fetcher, ["error"] = f.Exception.GetType().Name }),
        DeadlineExceeded d => Problem(StatusCodes.Status504GatewayTimeout, "The aggregation deadline passed",
            d.Describe() + ".", instance, nameof(DeadlineExceeded), elapsedMs, requestId, traceId,
            new() { ["pendingFetchers"] = d.Pending, ["timeoutMs"] = d.Timeout.TotalMilliseconds }),
        RequestRejected r => Problem(StatusCodes.Status503ServiceUnavailable, "The aggregator rejected the request",
            r.Describe() + ".", instance, nameof(RequestRejected), elapsedMs, requestId, traceId, new() { ["reason"] = r.Reason }),
        NodeFailed n => Problem(StatusCodes.Status503ServiceUnavailable, "The node running the aggregation failed",
            n.Describe() + ".", instance, nameof(NodeFailed), elapsedMs, requestId, traceId, new() { ["node"] = n.Node, ["reason"] = n.Reason }),
        AggregationCancelled c => Problem(StatusCodes.Status503ServiceUnavailable, "The aggregation was cancelled",
            c.Describe() + ".", instance, nameof(AggregationCancelled), elapsedMs, requestId, traceId, new() { ["reason"] = c.Reason }),
        _ => Problem(StatusCodes.Status500InternalServerError, "The aggregation failed",
            reason.Describe() + ".", instance, reason.GetType().Name, elapsedMs, requestId, traceId),
    };

    /// <summary>The W3C trace id of the HTTP request's activity; null when ASP.NET Core made none.</summary>
    private static string? TraceId() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.TraceId.ToHexString() : null;

    private static IResult Problem(int status, string title, string detail, string? instance, string cause, double elapsedMs,
        string? requestId, string? traceId, Dictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?> { ["cause"] = cause, ["elapsedMs"] = Math.Round(elapsedMs) };
        if (requestId is not null) all["requestId"] = requestId;
        if (traceId is not null) all["traceId"] = traceId;
        foreach (var (key, value) in extensions ?? []) all[key] = value;
        return Results.Problem(detail, instance, status, title, extensions: all);
    }
}
