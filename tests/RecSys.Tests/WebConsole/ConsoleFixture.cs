using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PuppeteerSharp;
using RecSys.Engine.Data;
using RecSys.Tests.Server;
using ExperimentRequests = RecSys.Tests.Server.Experiments;

namespace RecSys.Tests.WebConsole;

/// <summary>
/// A real server on the small demo plays with a metadata file of the demo's titles where one in ten
/// carries an <c>&lt;img onerror&gt;</c> and one in ten a <c>&lt;script&gt;</c>; two stored model
/// versions, an experiment, and one headless Chromium for the console tests.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string ExperimentId = "console-ml-vs-pop";
    private readonly TempDir _dir = new();

    public TestServer Server { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl => Server.Http.BaseAddress!.ToString().TrimEnd('/');

    /// <summary>The title the metadata file gives a track (the catalog's "track" is an artist row: title = name).</summary>
    public string Title(long id) => (id % 10) switch
    {
        0 => $"<img src=x onerror=\"window.__pwned=1\">{_titles[id]} & \"friends\"",
        1 => $"<script>window.__pwned=2</script>{_titles[id]}",
        _ => _titles[id],
    };

    private readonly Dictionary<long, string> _titles = [];

    public async Task InitializeAsync()
    {
        var demo = DemoCatalog.Generate(TestServer.SmallOptions(_dir.Path).Demo);
        foreach (var track in demo.Tracks) _titles[track.TrackId] = track.Title!;
        var metadata = new StringBuilder("id\tname\turl\tpictureURL\n");
        foreach (long id in _titles.Keys) metadata.Append($"{id}\t{Title(id)}\thttps://music.test/{id}\thttps://covers.test/{id}.png\n");
        string path = _dir.Write("artists.dat", metadata.ToString());
        Server = await TestServer.StartAsync(o =>
        {
            o.MetadataFile = path;
            return o;
        });
        await Server.TrainAgainAsync();
        var (status, body) = await ExperimentRequests.CreateAsync(Server, $$"""{"id":"{{ExperimentId}}","salt":"c1","arms":[{"name":"control","weight":50,"strategy":"ml"},{"name":"pop","weight":50,"strategy":"popularity"}]}""");
        if ((int)status != 201) throw new InvalidOperationException($"experiment not created: {status} {body}");
        // Listeners see recommendations (exposures) and half play the first one: a report with numbers.
        var plays = new List<string>();
        for (long user = 1; user <= 120; user++)
        {
            var shown = await GetArrayAsync($"/recommend/user/{user}/ml?limit=5", preview: false);
            if (user % 2 == 0) plays.Add(PlayEvents.Json($"console-{user}", user, (long)shown[0]!["track_id"]!, milestone: 90, completed: user % 4 == 0));
        }
        await PlayEvents.AcceptedAsync(Server.Http, [.. plays]);
        // The 202 comes once the plays are durable; live popularity takes them in just after. The
        // tests compare the page with the API, so wait until answers stop changing.
        string previous = "";
        for (var settleBy = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(250))
        {
            string now = string.Join("|", await Task.WhenAll(Enumerable.Range(1, 8).Select(async u => (await GetArrayAsync($"/recommend/user/{u}/ml?limit=20")).ToJsonString())));
            if (now == previous) break;
            if (DateTime.UtcNow > settleBy) throw new TimeoutException("answers kept changing after the fixture's play events");
            previous = now;
        }
        Browser = await HeadlessChromium.LaunchAsync(_dir.File("chromium-profile"));
    }

    /// <summary>A known listener with at least <paramref name="plays"/> plays in the model.</summary>
    public long Listener(int plays = 10)
    {
        var model = Server.Host.Current!.Model;
        for (int u = 0; u < model.UserCount; u++)
        {
            if (model.UserItems!.RowLength(u) >= plays) return model.UserIds[u];
        }
        throw new InvalidOperationException("no listener with enough plays");
    }

    public async Task<JsonArray> GetArrayAsync(string path, bool preview = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (preview) request.Headers.Add("X-Recommendation-Preview", "1");
        using var response = await Server.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonArray>())!;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        if (Server is not null) await Server.DisposeAsync();
        _dir.Dispose();
    }
}
