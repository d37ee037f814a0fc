namespace RecSys.Tests.Server;

/// <summary>A round-robin client over the replicas (what a load balancer sends), 4 at a time, counting every answer that is not 2xx.</summary>
public sealed class RoundRobinLoad : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<(int Ok, int Failed, List<string> Errors)>[] _workers;

    public RoundRobinLoad(IReadOnlyList<ServerProcess> replicas)
    {
        _workers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            int ok = 0, failed = 0, i = w;
            var errors = new List<string>();
            while (!_stop.IsCancellationRequested)
            {
                var replica = replicas[i % replicas.Count];
                string path = i % 2 == 0 ? $"/recommend/user/{i % 300}/ml" : $"/recommend/user/{i % 300}";
                i++;
                try
                {
                    using var answer = await replica.Http.GetAsync(path);
                    if (answer.IsSuccessStatusCode) ok++;
                    else if (errors.Count < 10) { failed++; errors.Add($"{path}: {(int)answer.StatusCode}"); }
                    else failed++;
                }
                catch (HttpRequestException e)
                {
                    failed++;
                    if (errors.Count < 10) errors.Add($"{path}: {e.Message}");
                }
            }
            return (ok, failed, errors);
        }))];
    }

    public async Task<(int Ok, int Failed, List<string> Errors)> StopAsync()
    {
        _stop.Cancel();
        var results = await Task.WhenAll(_workers);
        return (results.Sum(r => r.Ok), results.Sum(r => r.Failed), [.. results.SelectMany(r => r.Errors)]);
    }

    public void Dispose() => _stop.Cancel();
}
