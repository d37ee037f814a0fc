using System.Collections.Concurrent;
using System.Net;
using PuppeteerSharp;

namespace RecSys.Tests.WebConsole;

/// <summary>
/// One browser tab on the console. Console errors and uncaught exceptions are collected. Requests to
/// the server go through; cover images from other hosts (a CDN in production, unreachable here) are
/// answered with a small SVG, so the page sees covers load as it would in production; any other
/// request leaving the server's origin is refused and recorded, since the console must not make one.
/// </summary>
public sealed class ConsolePage : IAsyncDisposable
{
    public const int DesktopWidth = 1280, DesktopHeight = 900, PhoneWidth = 390, PhoneHeight = 844;

    /// <summary>A cover as a CDN would send one: a square in a colour of its own.</summary>
    private static string Cover(string url)
    {
        int hue = (int)(System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(url)) % 360);
        return $"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="hsl({hue} 55% 45%)"/><circle cx="5" cy="5" r="3" fill="hsl({hue} 55% 70%)"/></svg>""";
    }

    private ConsolePage(IPage page, string origin)
    {
        Page = page;
        _origin = origin;
    }

    private readonly string _origin;
    public IPage Page { get; }
    public ConcurrentQueue<string> Errors { get; } = new();
    public ConcurrentQueue<string> CoversRequested { get; } = new();
    public ConcurrentQueue<string> RefusedRequests { get; } = new();

    public static async Task<ConsolePage> OpenAsync(IBrowser browser, string origin, bool phone = false)
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(phone
            ? new ViewPortOptions { Width = PhoneWidth, Height = PhoneHeight, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2 }
            : new ViewPortOptions { Width = DesktopWidth, Height = DesktopHeight });
        var tab = new ConsolePage(page, origin);
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error) tab.Errors.Enqueue($"console: {e.Message.Text} ({e.Message.Location?.URL})");
        };
        page.PageError += (_, e) => tab.Errors.Enqueue($"uncaught: {e.Message}");
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            var request = e.Request;
            try
            {
            if (request.Url.StartsWith(origin + "/", StringComparison.Ordinal))
            {
                await request.ContinueAsync();
            }
            else if (request.ResourceType is ResourceType.Image or ResourceType.Img)
            {
                tab.CoversRequested.Enqueue(request.Url);
                await request.RespondAsync(new ResponseData { Status = HttpStatusCode.OK, ContentType = "image/svg+xml", Body = Cover(request.Url) });
            }
            else
            {
                tab.RefusedRequests.Enqueue($"{request.ResourceType} {request.Url}");
                await request.AbortAsync();
            }
            }
            catch (Exception x)
            {
                tab.Errors.Enqueue($"interception of {request.Url}: {x}");
            }
        };
        return tab;
    }

    /// <summary>Opens a console address (path and fragment) and waits until the selector appears.</summary>
    public async Task GoAsync(string pathAndFragment, string readySelector)
    {
        await Page.GoToAsync(_origin + pathAndFragment, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
        await Page.WaitForSelectorAsync(readySelector, new WaitForSelectorOptions { Timeout = 60_000 });
    }

    /// <summary>Waits until every cover image in the view has loaded or failed.</summary>
    public Task CoversSettledAsync() => WaitUntilAsync("[...document.querySelectorAll('.cover img')].every(i => i.complete)");

    /// <summary>
    /// Polls a condition through the debugging protocol. (Puppeteer's WaitForFunction compiles the
    /// condition inside the page, which the console's policy, no eval, rightly refuses.)
    /// </summary>
    public async Task WaitUntilAsync(string condition, int timeoutMs = 30_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await Page.EvaluateExpressionAsync<bool>($"!!({condition})"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"still false after {timeoutMs} ms: {condition}");
            await Task.Delay(50);
        }
    }

    /// <summary>Types the admin token into the page's field and submits it (the view draws again with it).</summary>
    public async Task EnterTokenAsync(string token)
    {
        await Page.TypeAsync("#token", token);
        await Page.ClickAsync("#token-form button");
        await WaitUntilAsync("document.querySelector('#token-state').textContent.startsWith('set')");
    }

    public Task<T> EvalAsync<T>(string expression) => Page.EvaluateExpressionAsync<T>(expression);

    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(Path.Combine(HeadlessChromium.ScreenshotDirectory(), name + ".png"));

    public void AssertClean(params string[] expectedErrors)
    {
        var unexpected = Errors.Where(e => !expectedErrors.Any(e.Contains)).ToList();
        Assert.True(unexpected.Count == 0, "console errors: " + string.Join(" | ", unexpected));
        Assert.True(RefusedRequests.IsEmpty, "requests leaving the server's origin: " + string.Join(" | ", RefusedRequests));
    }

    public async ValueTask DisposeAsync() => await Page.CloseAsync();
}
