using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ExperimentRequests = RecSys.Tests.Server.Experiments;

namespace RecSys.Tests.WebConsole;

/// <summary>
/// The web console in headless Chromium against the real server: every view loads without console
/// errors at desktop and phone width (screenshots in TestResults/console), recommendations and similar
/// tracks render from the API, markup in titles stays text, and admin actions need the token.
/// </summary>
[Trait("Category", "Browser")]
public sealed class ConsoleBrowserTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private const string Cards = "#recommendations [data-track-id]";

    /// <summary>
    /// The browser logs every 401 answer as an error: the listener view's plays before the admin token
    /// is entered, and the promote refused in its test. Any other error fails the tests.
    /// </summary>
    private const string PlaysRefused = "status of 401";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_view_loads_without_console_errors(bool phone)
    {
        string width = phone ? "phone" : "desktop";
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl, phone);
        long user = fixture.Listener();

        await tab.GoAsync($"/#/user/{user}", Cards);
        // Without the token the plays are refused (a listener's history is personal), with it they show.
        await tab.WaitUntilAsync("document.querySelector('#plays .note')?.textContent.includes('admin token')");
        await tab.EnterTokenAsync(Server.TestServer.Token);
        await tab.Page.WaitForSelectorAsync("#plays li.play");
        await tab.CoversSettledAsync();
        await tab.ScreenshotAsync($"listener-{width}");

        await tab.Page.ClickAsync(Cards);
        await tab.Page.WaitForSelectorAsync("#similar [data-track-id]");
        await tab.CoversSettledAsync();
        await tab.ScreenshotAsync($"similar-{width}");

        await tab.Page.ClickAsync("nav a[data-view='model']");
        await tab.Page.WaitForSelectorAsync("#versions table.versions");
        Assert.Equal(2, await tab.EvalAsync<int>("document.querySelectorAll('#versions .chart circle').length"));
        await tab.ScreenshotAsync($"model-{width}");

        await tab.Page.ClickAsync("nav a[data-view='experiments']");
        await tab.Page.WaitForSelectorAsync($"[data-experiment='{ConsoleFixture.ExperimentId}'] table.arms");
        // The exposures the fixture made, in the arms' table (the console's own previews are not among them).
        Assert.Equal(120, await tab.EvalAsync<int>(
            "[...document.querySelectorAll('table.arms tbody tr')].reduce((n, r) => n + Number(r.children[4].textContent.replace(/,/g, '')), 0)"));
        Assert.True(await tab.EvalAsync<int>("document.querySelectorAll('[data-experiment] .chart circle').length") > 0);
        await tab.ScreenshotAsync($"experiments-{width}");

        await tab.Page.ClickAsync("nav a[data-view='health']");
        await tab.Page.WaitForSelectorAsync("#traffic table");
        await tab.ScreenshotAsync($"health-{width}");

        // The one error: the plays refused before the token was entered.
        tab.AssertClean(PlaysRefused);
        Assert.True(await tab.EvalAsync<bool>("typeof window.__pwned === 'undefined'"));
        // The token stays in the page's memory: nothing of it in storage or cookies.
        Assert.True(await tab.EvalAsync<bool>(
            $"![localStorage, sessionStorage].some(s => Object.keys(s).some(k => s.getItem(k).includes('{Server.TestServer.Token}'))) && !document.cookie.includes('{Server.TestServer.Token}')"));
        if (!phone) return;
        // Phone width: nothing wider than the screen (no sideways scrolling of the page).
        await tab.GoAsync($"/#/user/{user}", Cards);
        Assert.True(await tab.EvalAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"),
            "the listener view scrolls sideways at phone width");
    }

    [Fact]
    public async Task Recommendations_render_as_cards_with_the_api_titles_and_covers()
    {
        long user = fixture.Listener();
        var expected = await fixture.GetArrayAsync($"/recommend/user/{user}/ml?limit=20");
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl);
        await tab.GoAsync($"/#/user/{user}", Cards);

        var ids = await tab.EvalAsync<long[]>($"[...document.querySelectorAll('{Cards}')].map(c => Number(c.dataset.trackId))");
        var titles = await tab.EvalAsync<string[]>($"[...document.querySelectorAll('{Cards} .title')].map(t => t.textContent)");
        Assert.Equal(expected.Select(t => (long)t!["track_id"]!), ids);
        Assert.Equal(expected.Select(t => (string)t!["title"]!), titles);
        await tab.CoversSettledAsync();
        Assert.Contains($"https://covers.test/{ids[0]}.png", tab.CoversRequested);
        Assert.Equal(20, await tab.EvalAsync<int>($"[...document.querySelectorAll('{Cards} .cover img')].filter(i => i.naturalWidth > 0).length"));
        tab.AssertClean(PlaysRefused);
    }

    [Fact]
    public async Task Clicking_a_track_loads_its_similar_tracks()
    {
        long user = fixture.Listener();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl);
        await tab.GoAsync($"/#/user/{user}", Cards);
        long clicked = await tab.EvalAsync<long>($"Number(document.querySelectorAll('{Cards}')[2].dataset.trackId)");
        await tab.Page.ClickAsync($"{Cards}:nth-child(3)");
        await tab.Page.WaitForSelectorAsync("#similar [data-track-id]");

        var expected = await fixture.GetArrayAsync($"/recommend/similar/{clicked}?limit=12");
        var shown = await tab.EvalAsync<long[]>("[...document.querySelectorAll('#similar [data-track-id]')].map(c => Number(c.dataset.trackId))");
        Assert.Equal(expected.Select(t => (long)t!["track_id"]!), shown);
        Assert.Contains(fixture.Title(clicked), await tab.EvalAsync<string>("document.querySelector('#similar h2').textContent"));

        // And from the similar list onwards, with the keyboard.
        long next = shown[0];
        await tab.Page.FocusAsync("#similar [data-track-id]");
        await tab.Page.Keyboard.PressAsync("Enter");
        await tab.WaitUntilAsync($"document.querySelector('#similar h2').textContent.includes({System.Text.Json.JsonSerializer.Serialize(fixture.Title(next))})");
        tab.AssertClean(PlaysRefused);
    }

    [Fact]
    public async Task Markup_in_titles_renders_as_text_and_never_runs()
    {
        long user = fixture.Listener();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl);
        await tab.GoAsync($"/#/user/{user}", Cards);
        await tab.EnterTokenAsync(Server.TestServer.Token);
        await tab.Page.WaitForSelectorAsync("#plays li.play");
        await tab.Page.WaitForSelectorAsync(Cards);
        // Every title the view shows, cards and plays, equals the catalog's text character for character.
        var shown = await tab.EvalAsync<JsonArray>(
            "[...document.querySelectorAll('[data-track-id]')].map(e => [Number(e.dataset.trackId), e.querySelector('.title').textContent])");
        Assert.NotEmpty(shown);
        Assert.Contains(shown, s => fixture.Title((long)s![0]!).Contains('<'));
        foreach (var s in shown) Assert.Equal(fixture.Title((long)s![0]!), (string)s[1]!);
        // Artist names carry the same markup (the metadata file's name is both title and artist).
        var artists = await tab.EvalAsync<JsonArray>(
            "[...document.querySelectorAll('[data-track-id]')].map(e => [Number(e.dataset.trackId), e.querySelector('.artist').textContent])");
        foreach (var a in artists) Assert.Equal(fixture.Title((long)a![0]!), (string)a[1]!);
        Assert.Equal(0, await tab.EvalAsync<int>("document.querySelectorAll('main script, main img:not(.cover img), .title *').length"));
        Assert.True(await tab.EvalAsync<bool>("typeof window.__pwned === 'undefined'"));
        tab.AssertClean(PlaysRefused);
    }

    [Fact]
    public async Task Promote_without_the_token_is_refused_in_the_page_and_with_it_serves_the_version()
    {
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl);
        await tab.GoAsync("/#/model", "#versions button.promote");
        string serving = fixture.Server.Host.Current!.Version;
        string other = await tab.EvalAsync<string>("document.querySelector('#versions button.promote').dataset.version");
        Assert.NotEqual(serving, other);

        await tab.Page.ClickAsync("#versions button.promote");
        await tab.Page.WaitForSelectorAsync("#admin-status.error");
        Assert.Contains("needs the admin token", await tab.EvalAsync<string>("document.querySelector('#admin-status').textContent"));
        Assert.Equal(serving, fixture.Server.Host.Current!.Version);

        await tab.EnterTokenAsync(Server.TestServer.Token);
        await tab.Page.WaitForSelectorAsync("#versions button.promote");
        await tab.Page.ClickAsync($"#versions button.promote[data-version='{other}']");
        await tab.Page.WaitForSelectorAsync("#admin-status.ok");
        Assert.Equal(other, fixture.Server.Host.Current!.Version);
        var described = await fixture.Server.Http.GetFromJsonAsync<JsonObject>("/model");
        Assert.Equal(other, (string)described!["version"]!);
        // The refused call is the one error the browser logs (a 401 answer); nothing else.
        tab.AssertClean(PlaysRefused);
    }

    [Fact]
    public async Task A_listener_opens_from_the_query_string_and_their_plays_page()
    {
        long user = fixture.Listener(plays: 25);
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser, fixture.BaseUrl);
        await tab.GoAsync($"/?user={user}", Cards);
        await tab.EnterTokenAsync(Server.TestServer.Token);
        await tab.Page.WaitForSelectorAsync("#plays li.play");
        Assert.Equal($"#/user/{user}", await tab.EvalAsync<string>("location.hash"));
        var first = await tab.EvalAsync<long[]>("[...document.querySelectorAll('#plays li.play')].map(p => Number(p.dataset.trackId))");
        Assert.Equal(20, first.Length);

        await tab.Page.ClickAsync("#plays .pager button:last-child");
        await tab.WaitUntilAsync($"document.querySelector('#plays li.play').dataset.trackId !== '{first[0]}'");
        var second = await tab.EvalAsync<long[]>("[...document.querySelectorAll('#plays li.play')].map(p => Number(p.dataset.trackId))");
        var page = await ExperimentRequests.GetAsync(fixture.Server, $"/users/{user}/plays?limit=20&offset=20");
        Assert.Equal(page!["plays"]!.AsArray().Select(p => (long)p!["track_id"]!), second);
        Assert.Empty(first.Intersect(second));
        tab.AssertClean(PlaysRefused);
    }
}
