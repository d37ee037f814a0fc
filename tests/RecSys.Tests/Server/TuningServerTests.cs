using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Tuning;
using RecSys.Server.Configuration;

namespace RecSys.Tests.Server;

/// <summary>The server's trainings tune themselves: search once, reuse while recent, search again when due, from the last choice.</summary>
public sealed class TuningServerTests
{
    private static Func<ServerOptions, ServerOptions> Auto(double retuneDays) => o =>
    {
        o.Tuning = new TuningSettings { Mode = "auto", Candidates = 5, RetuneDays = retuneDays };
        return o;
    };

    private static async Task<JsonObject> TrainAgainAsync(TestServer server) =>
        server.Host.Store.ReadManifest(await server.TrainAgainAsync())!.Tuned!;

    [Fact]
    public async Task The_first_training_searches_and_the_next_reuses_the_choice()
    {
        await using var server = await TestServer.StartAsync(Auto(retuneDays: 7));
        var first = server.Host.Current!.Manifest!.Tuned!;
        Assert.False((bool)first["reused"]!);
        Assert.NotNull(first["validation_ndcg@10"]);
        Assert.Equal(server.Host.Current.Manifest.Interactions, (long)first["interactions"]!);
        // The model was trained with the chosen settings, and /model shows them.
        var described = await server.Http.GetFromJsonAsync<JsonObject>("/model");
        Assert.Equal((int)first["factors"]!, (int)described!["factors"]!);
        Assert.Equal(first.ToJsonString(), described["tuned"]!.ToJsonString());

        var second = await TrainAgainAsync(server);
        Assert.True((bool)second["reused"]!);
        Assert.Equal(TunedSettings.Apply(first, server.Options.Training), TunedSettings.Apply(second, server.Options.Training));
    }

    [Fact]
    public async Task A_choice_past_its_age_is_searched_again_from_itself()
    {
        await using var server = await TestServer.StartAsync(Auto(retuneDays: 0));
        var first = server.Host.Current!.Manifest!.Tuned!;
        var second = await TrainAgainAsync(server);
        Assert.False((bool)second["reused"]!);
        // Warm start: the previous choice is the search's starting point and always trains to the end, on
        // the same data and validation split, so the new choice is at least as good on validation.
        Assert.True((double)second["validation_ndcg@10"]! >= (double)first["validation_ndcg@10"]!, $"{first} then {second}");
    }

    [Fact]
    public void Tuning_settings_out_of_range_are_named()
    {
        var options = TestServer.SmallOptions("store");
        options.Tuning = new TuningSettings { Mode = "sometimes", BudgetTrainings = 0, RetuneGrowth = -1 };
        var problems = options.Validate();
        Assert.Contains(problems, p => p.StartsWith("RecSys:Tuning:Mode", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RecSys:Tuning:BudgetTrainings", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RecSys:Tuning:RetuneGrowth", StringComparison.Ordinal));
    }
}
