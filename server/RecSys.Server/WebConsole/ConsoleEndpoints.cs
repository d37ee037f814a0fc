using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Primitives;
using RecSys.Server.Configuration;
using RecSys.Server.Endpoints;

namespace RecSys.Server.WebConsole;

/// <summary>
/// The web console: a page at / and its files under /console/, calling the public JSON API (and the
/// admin API with a token typed into the page). Nothing is mapped when it is off.
/// </summary>
internal static class ConsoleEndpoints
{
    public static void Map(WebApplication app, ConsoleOptions options)
    {
        if (!options.Enabled) return;
        var assets = ConsoleAssets.Load();
        StringValues policy = ContentSecurityPolicy(options);
        var index = assets["index.html"];
        app.MapGet("/", (HttpContext http) => Serve(http, index, policy)).WithName("Console").ExcludeFromDescription();
        app.MapGet("/console/{name}", (HttpContext http, string name) => assets.TryGetValue(name, out var asset)
            ? Serve(http, asset, policy)
            : Results.Problem(title: "Not Found", detail: $"the console has no file '{ApiParameters.Shorten(name)}'", statusCode: StatusCodes.Status404NotFound))
            .ExcludeFromDescription();
        // The address to open, once Kestrel knows it (port 0 picks one at start).
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleEndpoints).FullName!);
            foreach (string address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            {
                log.LogInformation("web console: {Address}/ (listener, model, experiments, health)", address.TrimEnd('/'));
            }
        });
    }

    /// <summary>
    /// Scripts, styles and API calls from this origin only (no inline script or style, no eval), images
    /// also from the configured cover hosts, nothing else; the page cannot be framed or post forms away.
    /// </summary>
    internal static string ContentSecurityPolicy(ConsoleOptions options) =>
        "default-src 'none'; script-src 'self'; style-src 'self'; " +
        $"img-src 'self' {options.ImageSources}".TrimEnd() + "; " +
        "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static IResult Serve(HttpContext http, ConsoleAsset asset, StringValues policy)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = policy;
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Revalidated on every load (a new server version may ship new files), answered 304 when unchanged.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
