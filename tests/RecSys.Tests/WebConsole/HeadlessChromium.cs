using PuppeteerSharp;

namespace RecSys.Tests.WebConsole;

/// <summary>
/// Debian's Chromium, headless, driven by PuppeteerSharp: nothing is downloaded at run time (test.sh
/// installs the package when it is missing). RECSYS_CHROMIUM names another binary.
/// </summary>
public static class HeadlessChromium
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("RECSYS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<IBrowser> LaunchAsync(string profileDirectory)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"no Chromium at {ExecutablePath}: install Debian's 'chromium' package (./test.sh does) or set RECSYS_CHROMIUM");
        }
        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            UserDataDir = profileDirectory,
            // Background networking off: on a closed network Chromium's own connections fail noisily.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
            Timeout = 60_000,
        });
    }

    /// <summary>TestResults/console under the repository (where test.sh collects results), created.</summary>
    public static string ScreenshotDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RecSys.sln"))) dir = dir.Parent;
        string root = dir?.FullName ?? Path.GetTempPath();
        string path = Path.Combine(root, "TestResults", "console");
        Directory.CreateDirectory(path);
        return path;
    }
}
