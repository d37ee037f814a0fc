using RecSys.Engine.Experiments;

namespace RecSys.Tests.Experiments;

public sealed class ExperimentJsonTests
{
    [Fact]
    public void The_interface_example_parses_and_round_trips()
    {
        var d = ExperimentJson.Parse("""{"id":"ml-vs-pop","salt":"s1","arms":[{"name":"control","weight":50,"strategy":"ml"},{"name":"pop","weight":50,"strategy":"popularity"}]}""");
        Assert.Equal("ml-vs-pop", d.Id);
        Assert.Equal("control", d.Control.Name);
        Assert.Equal([ExperimentDefinition.PersonalEndpoint], d.Endpoints);
        Assert.Equal(24, d.AttributionWindowHours);
        var full = ExperimentJson.Parse("""
            {"id":"v7-vs-v8","salt":"x","arms":[{"name":"v7","weight":1,"strategy":"model:20261201T000000000Z"},{"name":"v8","weight":3,"strategy":"ml","exclude_heard":false}],
             "endpoints":["/recommend/user/{user_id}","/recommend/user/{user_id}/ml"],"layer":{"from":10,"to":60},
             "start":"2026-12-01T00:00:00Z","stop":"2026-12-15T00:00:00+01:00","attribution_window_hours":12,"exposure_sample":0.5,"covariate_days":14,
             "overrides":{"42":"v8"}}
            """);
        var again = ExperimentJson.Parse(ExperimentJson.ToJson(full).ToJsonString());
        Assert.Equal(ExperimentJson.ToJson(full).ToJsonString(), ExperimentJson.ToJson(again).ToJsonString());
        Assert.Equal(new DateTime(2026, 12, 14, 23, 0, 0, DateTimeKind.Utc), again.StopUtc);
        Assert.Equal("v8", again.Overrides[42]);
        Assert.False(again.Arms[1].ExcludeHeard);
        Assert.True(again.Arms[0].ExcludeHeard);
        Assert.Equal("20261201T000000000Z", ArmStrategy.Parse(again.Arms[0].Strategy).ModelVersion);
    }

    [Theory]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"}]}""", "arms: between 2 and 16")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"c","strategy":"ml"}]}""", "is used twice")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"neural"}]}""", "arms[1].strategy: 'neural' is not a strategy")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"model:../x"}]}""", "does not name a model version")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml","weight":0},{"name":"d","strategy":"ml"}]}""", "arms[0].weight must be in (0, 1e6]")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml","weight":"50"},{"name":"d","strategy":"ml"}]}""", "arms[0].weight must be a number")]
    [InlineData("""{"id":"a b","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}]}""", "id 'a b' must be")]
    [InlineData("""{"arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}]}""", "id is required")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"colour":1}""", "unknown field 'colour'")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"endpoints":["/recommend/similar/{track_id}"]}""", "is not one an experiment can cover")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"layer":{"from":60,"to":40}}""", "layer: need 0 <= from < to <= 100")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"start":"2026-12-01T00:00:00"}""", "start must be a time with its zone")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"start":"2026-12-02T00:00:00Z","stop":"2026-12-01T00:00:00Z"}""", "must be after start")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"overrides":{"5":"e"}}""", "user 5 is sent to arm 'e'")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"exposure_sample":0}""", "exposure_sample must be in (0, 1]")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"start":"2026-12-01"}""", "start must be a time with its zone")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"start":"2026-12-01 10:00+01:00"}""", "start must be a time with its zone")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml"}],"stop":"0001-01-01T00:00:00Z"}""", "stop must be between 2000 and 2100")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"ml","exclude_heard":"no"}]}""", "arms[1].exclude_heard must be true or false")]
    [InlineData("""{"id":"a","arms":[{"name":"c","strategy":"ml"},{"name":"d","strategy":"legacy","exclude_heard":false}]}""", "arms[1].exclude_heard: false applies to ml")]
    [InlineData("""{"id":"a","arms":[{"name":"c","weight":1,"weight":2,"strategy":"ml"},{"name":"d","strategy":"ml"}]}""", "Duplicate")] // found by the fuzzer
    [InlineData("""[1,2]""", "an experiment is a JSON object")]
    [InlineData("""{"id":""", "the body is not JSON")]
    public void Bad_definitions_name_the_problem(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ExperimentJson.Parse(json));
        Assert.Contains(expected, e.Message);
    }
}
