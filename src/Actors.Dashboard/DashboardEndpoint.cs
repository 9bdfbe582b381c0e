using System.Diagnostics;
using Actors.Aggregation;
using Akka.Hosting;

namespace Actors.Dashboard;

/// <summary>
/// <c>GET /dashboard/{id}</c>: runs the aggregation. 200 with the combined text (with <see cref="FallbackHeader"/> when an
/// optional part fell back); otherwise an RFC 7807 ProblemDetails body
/// whose <c>cause</c> names the failure and whose <c>failedFetcher</c> or <c>pendingFetchers</c> name the fetchers involved:
/// 502 FetcherFailed, 504 DeadlineExceeded, 503 RequestRejected, AggregationCancelled or NodeFailed, 500 CombineFailed.
/// </summary>
public static class DashboardEndpoint
{
    /// <summary>
    /// The header of a 200 answer some of whose parts fell back (an optional <c>orders</c> part whose service failed): the
    /// fetchers' names, comma-separated. The body shows the fallback in the part's place.
    /// </summary>
    public const string FallbackHeader = "X-Aggregation-Fallback";

    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/dashboard/{id:int}", HandleAsync);

    private static async Task<IResult> HandleAsync(int id, HttpContext context, IRequiredActor<DashboardAggregator> required,
        IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var instance = context.Request.Path.Value;
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return Problem(StatusCodes.Status503ServiceUnavailable, "The dashboard is shutting down", "The host is stopping; no new aggregation starts.",
                instance, "ShuttingDown", 0, null);

        var started = Stopwatch.GetTimestamp();
        try
        {
            var aggregator = await required.GetAsync(context.RequestAborted);
            // The client's disconnect cancels the aggregation, and through it both downstream requests.
            switch (await aggregator.AggregateReplyAsync(id, cancellationToken: context.RequestAborted))
            {
                case AggregateSucceeded<string> succeeded:
                    if (succeeded.FellBack.Count > 0)
                        context.Response.Headers[FallbackHeader] = string.Join(", ", succeeded.FellBack.Select(p => p.Fetcher));
                    return Results.Text(succeeded.Result);
                case AggregateFailed failed:
                    return ProblemFor(failed.Reason, instance, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
    internal static IResult ProblemFor(AggregationFailure reason, string? instance, double elapsedMs) => reason switch
    {
        FetcherFailed f => Problem(StatusCodes.Status502BadGateway, "A downstream fetcher failed",
            $"{f.Describe()}; the other fetchers were cancelled.", instance, nameof(FetcherFailed), elapsedMs,
            new() { ["failedFetcher"] = f.Fetcher, ["error"] = f.Exception.GetType().Name }),
        DeadlineExceeded d => Problem(StatusCodes.Status504GatewayTimeout, "The aggregation deadline passed",
            d.Describe() + ".", instance, nameof(DeadlineExceeded), elapsedMs,
            new() { ["pendingFetchers"] = d.Pending, ["timeoutMs"] = d.Timeout.TotalMilliseconds }),
        RequestRejected r => Problem(StatusCodes.Status503ServiceUnavailable, "The aggregator rejected the request",
            r.Describe() + ".", instance, nameof(RequestRejected), elapsedMs, new() { ["reason"] = r.Reason }),
        NodeFailed n => Problem(StatusCodes.Status503ServiceUnavailable, "The node running the aggregation failed",
            n.Describe() + ".", instance, nameof(NodeFailed), elapsedMs, new() { ["node"] = n.Node, ["reason"] = n.Reason }),
        AggregationCancelled c => Problem(StatusCodes.Status503ServiceUnavailable, "The aggregation was cancelled",
            c.Describe() + ".", instance, nameof(AggregationCancelled), elapsedMs, new() { ["reason"] = c.Reason }),
        _ => Problem(StatusCodes.Status500InternalServerError, "The aggregation failed",
            reason.Describe() + ".", instance, reason.GetType().Name, elapsedMs, null),
    };

    private static IResult Problem(int status, string title, string detail, string? instance, string cause, double elapsedMs,
        Dictionary<string, object?>? extensions)
    {
        var all = new Dictionary<string, object?> { ["cause"] = cause, ["elapsedMs"] = Math.Round(elapsedMs) };
        foreach (var (key, value) in extensions ?? []) all[key] = value;
        return Results.Problem(detail, instance, status, title, extensions: all);
    }
}
