using System.Net;
using System.Text.Json;

namespace RecSys.Tests.Server;

public sealed class EndpointTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    private static readonly string[] Fields = ["track_id", "score", "title", "artist_name", "artist_id", "album_id", "duration_ms", "preview_url", "cover_url"];

    private async Task<(HttpResponseMessage Response, JsonElement Body)> GetJson(string path)
    {
        var r = await S.Http.GetAsync(path);
        string text = await r.Content.ReadAsStringAsync();
        return (r, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Source(HttpResponseMessage r) => r.Headers.GetValues("X-Recommendation-Source").Single();

    [Fact]
    public async Task Ml_endpoint_serves_a_warm_user_with_metadata_and_without_heard_tracks()
    {
        var model = S.Host.Current!.Model;
        int user = Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) >= 10);
        long id = model.UserIds[user];
        var (r, body) = await GetJson($"/recommend/user/{id}/ml?limit=20");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("ml", Source(r));
        Assert.Equal(20, body.GetArrayLength());
        var heard = model.UserItems!.RowIndices(user).ToArray().Select(i => model.TrackIds[i]).ToHashSet();
        float previous = float.MaxValue;
        foreach (var item in body.EnumerateArray())
        {
            Assert.Equal(Fields, item.EnumerateObject().Select(p => p.Name));
            Assert.DoesNotContain(item.GetProperty("track_id").GetInt64(), heard);
            Assert.False(string.IsNullOrEmpty(item.GetProperty("title").GetString()));
            float score = item.GetProperty("score").GetSingle();
            Assert.True(score <= previous);
            previous = score;
        }
        // Default limit is 20, and a cached second answer is identical.
        var (r2, again) = await GetJson($"/recommend/user/{id}/ml");
        Assert.Equal("ml", Source(r2));
        Assert.Equal(body.ToString(), again.ToString());
    }

    [Fact]
    public async Task A_cached_answer_carries_the_current_catalogs_metadata()
    {
        var model = S.Host.Current!.Model;
        int user = Enumerable.Range(0, model.UserCount).Last(u => model.UserItems!.RowLength(u) >= 10);
        string path = $"/recommend/user/{model.UserIds[user]}/ml?limit=5";
        var (_, first) = await GetJson(path);
        var original = S.Host.Catalog;
        try
        {
            var renamed = model.TrackIds.Select(id => new RecSys.Engine.Data.TrackInfo(id, $"renamed {id}", 1, "artist", null, null, null, null));
            S.Host.SetCatalog(new RecSys.Server.Metadata.TrackCatalog(renamed, "test"));
            var (r, second) = await GetJson(path);
            Assert.Equal("ml", Source(r));
            Assert.Equal(first.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()), second.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()));
            Assert.All(second.EnumerateArray(), e => Assert.Equal($"renamed {e.GetProperty("track_id").GetInt64()}", e.GetProperty("title").GetString()));
        }
        finally
        {
            S.Host.SetCatalog(original);
        }
    }

    [Fact]
    public async Task Cold_known_user_gets_fold_in_and_unknown_user_popularity()
    {
        var model = S.Host.Current!.Model;
        int cold = Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) is > 0 and < 5);
        var (r, body) = await GetJson($"/recommend/user/{model.UserIds[cold]}/ml?limit=7");
        Assert.Equal("fold-in", Source(r));
        Assert.Equal(7, body.GetArrayLength());
        var heard = model.UserItems!.RowIndices(cold).ToArray().Select(i => model.TrackIds[i]).ToHashSet();
        Assert.DoesNotContain(body.EnumerateArray(), e => heard.Contains(e.GetProperty("track_id").GetInt64()));

        var (p, pop) = await GetJson("/recommend/user/987654321/ml?limit=5");
        Assert.Equal("popularity", Source(p));
        var expected = S.Host.Current.Recommender.Popular(5).Select(x => model.TrackIds[x.Index]);
        Assert.Equal(expected, pop.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()));
    }

    [Fact]
    public async Task Legacy_endpoint_is_stable_per_user_and_day()
    {
        var (a, first) = await GetJson("/recommend/user/42?limit=8");
        var (_, second) = await GetJson("/recommend/user/42?limit=8");
        var (_, other) = await GetJson("/recommend/user/43?limit=8");
        Assert.Equal("legacy", Source(a));
        Assert.Equal(8, first.GetArrayLength());
        Assert.Equal(first.ToString(), second.ToString());
        Assert.NotEqual(first.ToString(), other.ToString());
        Assert.Equal(8, first.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()).Distinct().Count());
    }

    [Fact]
    public async Task Similar_tracks_and_unknown_track_404()
    {
        var model = S.Host.Current!.Model;
        long track = model.TrackIds[3];
        var (r, body) = await GetJson($"/recommend/similar/{track}?limit=10");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(10, body.GetArrayLength());
        Assert.DoesNotContain(body.EnumerateArray(), e => e.GetProperty("track_id").GetInt64() == track);
        Assert.Equal(Fields, body[0].EnumerateObject().Select(p => p.Name));

        var (missing, problem) = await GetJson("/recommend/similar/999999999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        Assert.Contains("999999999", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/recommend/user/abc/ml", "user_id")]
    [InlineData("/recommend/user/-5/ml", "user_id")]
    [InlineData("/recommend/user/99999999999999999999/ml", "user_id")]
    [InlineData("/recommend/user/1.5/ml", "user_id")]
    [InlineData("/recommend/user/5/ml?limit=0", "limit")]
    [InlineData("/recommend/user/5/ml?limit=-3", "limit")]
    [InlineData("/recommend/user/5/ml?limit=501", "limit")]
    [InlineData("/recommend/user/5/ml?limit=ten", "limit")]
    [InlineData("/recommend/user/5/ml?limit=99999999999999", "limit")]
    [InlineData("/recommend/similar/x1", "track_id")]
    [InlineData("/recommend/similar/7?limit=0", "limit")]
    [InlineData("/recommend/user/%20/ml", "user_id")]
    [InlineData("/recommend/user/7?limit=1000", "limit")]
    public async Task Bad_input_is_a_400_problem_naming_the_parameter(string path, string parameter)
    {
        var (r, body) = await GetJson(path);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        Assert.Equal(parameter, body.GetProperty("parameter").GetString());
        Assert.Contains(parameter, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Health_ready_model_metrics_and_openapi()
    {
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/health")).StatusCode);
        var (ready, readyBody) = await GetJson("/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(readyBody.GetProperty("ready").GetBoolean());

        var (_, model) = await GetJson("/model");
        Assert.Equal(S.Host.Current!.Version, model.GetProperty("version").GetString());
        foreach (string key in new[] { "trained_at", "parameters", "metrics", "users", "items", "interactions", "last_reload", "training", "retrieval" })
        {
            Assert.True(model.TryGetProperty(key, out _), key);
        }
        Assert.True(model.GetProperty("metrics").GetProperty("ndcg@10").GetDouble() > 0);

        await S.Http.GetAsync($"/recommend/user/{S.Host.Current.Model.UserIds[0]}/ml");
        string metrics = await S.Http.GetStringAsync("/metrics");
        Assert.Contains("recsys_request_duration_seconds_bucket{endpoint=\"/recommend/user/{user_id}/ml\"", metrics);
        Assert.Contains("recsys_model_info{version=\"" + S.Host.Current.Version + "\"} 1", metrics);
        Assert.Contains("recsys_model_reloads_total", metrics);

        var (openapi, doc) = await GetJson("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, openapi.StatusCode);
        Assert.True(doc.GetProperty("paths").TryGetProperty("/recommend/user/{user_id}/ml", out var ml));
        var parameters = ml.GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("user_id", parameters);
        Assert.Contains("limit", parameters);
    }

    [Fact]
    public async Task Admin_endpoints_refuse_missing_or_wrong_tokens()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await S.Http.SendAsync(S.Admin("/admin/reload", null))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await S.Http.SendAsync(S.Admin("/admin/reload", "wrong-token-0123456789"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await S.Http.SendAsync(S.Admin("/admin/train", "x"))).StatusCode);
        var ok = await S.Http.SendAsync(S.Admin("/admin/reload"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Unknown_routes_are_404_not_500()
    {
        var missing = await S.Http.GetAsync("/recommend/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Equal("Not Found", problem.GetProperty("title").GetString());
        var wrongMethod = await S.Http.PostAsync("/recommend/user/5/ml", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// The limit is read from the request line when the query is just "?limit=digits"; every other
    /// form goes through the query collection and must mean what the framework's binding meant
    /// (answers recorded from the server before the fast path).
    /// </summary>
    [Theory]
    [InlineData("", 200, 20)]
    [InlineData("?limit=5", 200, 5)]
    [InlineData("?limit=05", 200, 5)]
    [InlineData("?LIMIT=5", 200, 5)]
    [InlineData("?limit=%35", 200, 5)]
    [InlineData("?x=1&limit=5", 200, 5)]
    [InlineData("?limit=5&x=1", 200, 5)]
    [InlineData("?limit=", 400, 0)]
    [InlineData("?limit=5&limit=6", 400, 0)]
    [InlineData("?limit=+5", 400, 0)]
    [InlineData("?limit=5%20", 400, 0)]
    [InlineData("?limit=1234567890", 400, 0)]
    public async Task Every_form_of_the_limit_query_means_what_the_framework_binding_meant(string query, int status, int count)
    {
        var model = S.Host.Current!.Model;
        int user = Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) >= 10);
        foreach (string path in new[] { $"/recommend/user/{model.UserIds[user]}/ml", $"/recommend/similar/{model.TrackIds[0]}", "/recommend/user/42" })
        {
            var (r, body) = await GetJson(path + query);
            Assert.Equal(status, (int)r.StatusCode);
            if (status == 200)
            {
                int expected = query.Length == 0 && path.Contains("similar", StringComparison.Ordinal) ? 10 : count;
                Assert.Equal(expected, body.GetArrayLength());
            }
            else
            {
                Assert.Equal("limit", body.GetProperty("parameter").GetString());
            }
        }
    }
}
