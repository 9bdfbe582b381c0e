using System.Diagnostics;

namespace Actors.Dashboard.Services;

/// <summary>How a downstream service answers: after <paramref name="Latency"/>, and with a 500 for a share <paramref name="FailureRate"/> of requests.</summary>
/// <param name="Latency">Time before the answer; the wait ends early when the caller aborts the request.</param>
/// <param name="FailureRate">0 never fails, 1 always fails (after the latency), in between at random.</param>
public sealed record ServiceBehaviour(TimeSpan Latency, double FailureRate);

/// <summary>A request the service stopped working on because its caller went away (Kestrel's <c>RequestAborted</c>).</summary>
/// <param name="Service">The service's name.</param>
/// <param name="Id">The requested id.</param>
/// <param name="AfterMs">How long the request had run when the abort reached the server.</param>
/// <param name="AbortedAt"><see cref="Stopwatch"/> timestamp of the abort.</param>
public sealed record AbortedRequest(string Service, int Id, double AfterMs, long AbortedAt);

/// <summary>
/// One of the host's own downstream services (profile, orders), served by Kestrel on the host's loopback address under
/// <c>/services/{name}/{id}</c>. It answers a small fixed table after its latency, fails at its failure rate, and logs
/// when a caller aborts a request mid-way: the proof that a cancelled fetch reached the socket.
/// </summary>
public sealed class DownstreamService
{
    private readonly IReadOnlyDictionary<int, string> _records;
    private readonly ILogger _log;
    private ServiceBehaviour _behaviour;

    /// <summary>Creates the service.</summary>
    public DownstreamService(string name, IReadOnlyDictionary<int, string> records, ServiceBehaviour behaviour, ILogger log)
    {
        Name = name;
        _records = records;
        _behaviour = behaviour;
        _log = log;
    }

    /// <summary>The service's name, also its path segment.</summary>
    public string Name { get; }

    /// <summary>How it answers from now on; the demo changes it between cases.</summary>
    public ServiceBehaviour Behaviour
    {
        get => Volatile.Read(ref _behaviour);
        set => Volatile.Write(ref _behaviour, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Raised when a request for an id arrives, before the latency.</summary>
    public event Action<int>? Requested;

    /// <summary>Raised when a caller aborts a request and the service stops working on it.</summary>
    public event Action<AbortedRequest>? Aborted;

    /// <summary>Completes when the next request for <paramref name="id"/> arrives. Call it before sending that request.</summary>
    public Task WhenRequested(int id)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<int>? handler = null;
        handler = requested =>
        {
            if (requested != id || !arrived.TrySetResult()) return;
            Requested -= handler;
        };
        Requested += handler;
        return arrived.Task;
    }

    /// <summary>Completes at the next abort of a request for <paramref name="id"/>. Call it before sending the request you expect to be aborted.</summary>
    public Task<AbortedRequest> WhenAborted(int id)
    {
        var aborted = new TaskCompletionSource<AbortedRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<AbortedRequest>? handler = null;
        handler = request =>
        {
            if (request.Id != id || !aborted.TrySetResult(request)) return;
            Aborted -= handler;
        };
        Aborted += handler;
        return aborted.Task;
    }

    /// <summary>Serves <c>GET /services/{name}/{id}</c>.</summary>
    public async Task<IResult> HandleAsync(int id, HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var behaviour = Behaviour;
        Requested?.Invoke(id);
        _log.LogDebug("{Service} service: request for {Id} received", Name, id);
        try
        {
            await Task.Delay(behaviour.Latency, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            var aborted = new AbortedRequest(Name, id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Stopwatch.GetTimestamp());
            _log.LogInformation("{Service} service: request for {Id} aborted by the caller after {ElapsedMs:0} ms; stopped working on it",
                Name, id, aborted.AfterMs);
            Aborted?.Invoke(aborted);
            return Results.Empty;
        }

        if (behaviour.FailureRate > 0 && Random.Shared.NextDouble() < behaviour.FailureRate)
        {
            _log.LogInformation("{Service} service: request for {Id} fails after {ElapsedMs:0} ms (simulated, failure rate {FailureRate})",
                Name, id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, behaviour.FailureRate);
            return Results.Text($"{Name} service failed (simulated failure, rate {behaviour.FailureRate})", statusCode: StatusCodes.Status500InternalServerError);
        }
        return _records.TryGetValue(id, out var record)
            ? Results.Text(record)
            : Results.Text($"{Name} service has no record {id}", statusCode: StatusCodes.Status404NotFound);
    }
}

/// <summary>The host's two downstream services, as in the kata: a profile service and an orders service.</summary>
public sealed class LoopbackServices
{
    /// <summary>Creates both services with their configured behaviour.</summary>
    public LoopbackServices(DashboardSettings settings, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger<LoopbackServices>();
        Profile = new DownstreamService("profile",
            new Dictionary<int, string> { [1] = "Name: Alice", [2] = "Name: Bob", [3] = "Name: Carol" }, settings.Profile, log);
        Orders = new DownstreamService("orders",
            new Dictionary<int, string> { [1] = "Order: 5", [2] = "Order: 12", [3] = "Order: 7" }, settings.Orders, log);
    }

    /// <summary>Answers <c>Name: ...</c> for ids 1 to 3.</summary>
    public DownstreamService Profile { get; }

    /// <summary>Answers <c>Order: ...</c> for ids 1 to 3.</summary>
    public DownstreamService Orders { get; }

    /// <summary>Maps <c>GET /services/profile/{id}</c> and <c>GET /services/orders/{id}</c>.</summary>
    public void Map(IEndpointRouteBuilder endpoints)
    {
        foreach (var service in new[] { Profile, Orders })
            endpoints.MapGet($"/services/{service.Name}/{{id:int}}", (int id, HttpContext context) => service.HandleAsync(id, context));
    }
}
