using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>floor-server [--port 8001] [--bytes 5500] [--inline]</c>: a minimal Kestrel app that answers
/// <c>GET /recommend/user/{id}/ml</c> and <c>/recommend/similar/{id}</c> with a fixed JSON array of
/// about the size of a 20-track answer.
/// It is the baseline for the load tests: what this machine's Kestrel and loopback do with no work
/// per request, measured in the same session as the server (bench/load/run.sh against both ports).
/// <c>--inline</c> takes the socket settings <c>recsys serve</c> uses.
/// </summary>
public static class FloorServer
{
    public static int Run(string[] args)
    {
        int port = int.Parse(Experiment.Arg(args, "--port") ?? "8001", System.Globalization.CultureInfo.InvariantCulture);
        int bytes = int.Parse(Experiment.Arg(args, "--bytes") ?? "5500", System.Globalization.CultureInfo.InvariantCulture);
        bool inline = args.Contains("--inline");
        if (inline) Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        byte[] body = Body(bytes);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = inline);
        var app = builder.Build();
        IResult Answer(HttpContext http)
        {
            http.Response.ContentType = "application/json; charset=utf-8";
            http.Response.ContentLength = body.Length;
            http.Response.BodyWriter.Write(body);
            return Results.Empty;
        }
        app.MapGet("/recommend/user/{user_id}/ml", (HttpContext http, string user_id) => Answer(http));
        app.MapGet("/recommend/similar/{track_id}", (HttpContext http, string track_id) => Answer(http));
        Console.WriteLine($"floor server on http://127.0.0.1:{port}: {body.Length}-byte answers, inline {(inline ? "on" : "off")}");
        app.Run();
        return 0;
    }

    /// <summary>A JSON array of 20 objects shaped like the API's, padded to about <paramref name="bytes"/>.</summary>
    private static byte[] Body(int bytes)
    {
        const int Items = 20;
        string Item(int i, int pad) =>
            $"{{\"track_id\":{100000 + i},\"score\":0.{42625096 - i},\"title\":\"{new string('t', pad)}\",\"artist_name\":\"artist\",\"artist_id\":1,\"album_id\":2,\"duration_ms\":180000,\"preview_url\":null,\"cover_url\":null}}";
        int fixedPart = Enumerable.Range(0, Items).Sum(i => Item(i, 0).Length) + Items + 1;
        int pad = Math.Max(0, (bytes - fixedPart) / Items);
        return Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, Items).Select(i => Item(i, pad))) + "]");
    }
}
