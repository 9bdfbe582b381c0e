using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Actors.Dashboard.Services;

/// <summary>
/// Calls the host's downstream services over real HTTP on the loopback address Kestrel bound. The fetch's token is
/// handed to <see cref="HttpClient"/>, so cancelling it aborts the request on the socket, and the service sees it.
/// </summary>
public sealed class DownstreamClient(IHttpClientFactory clients, IServer server)
{
    /// <summary>The name of the <see cref="HttpClient"/> registration; its own timeout is off, the aggregation's deadline rules.</summary>
    public const string HttpClientName = "downstream";

    private Uri? _baseAddress;

    /// <summary>The services' base address, e.g. <c>http://127.0.0.1:41234/services/</c>; known once Kestrel has started.</summary>
    public Uri BaseAddress => _baseAddress ??= FindBaseAddress();

    /// <summary>Gets <c>/services/{service}/{id}</c> as text; a non-success status throws <see cref="HttpRequestException"/> with the service's answer.</summary>
    public async Task<string> GetAsync(string service, int id, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(HttpClientName);
        using var response = await client.GetAsync(new Uri(BaseAddress, $"{service}/{id}"), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{service} service answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        return body;
    }

    private Uri FindBaseAddress()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel has not started yet: the downstream services have no address.");
        var uri = new Uri(first.Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal));
        // A wildcard listener is reached on loopback: the services are this host's own.
        var host = IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            ? (ip.Equals(IPAddress.Any) ? "127.0.0.1" : "[::1]")
            : uri.Host;
        return new UriBuilder(uri) { Host = host, Path = "/services/" }.Uri;
    }
}
