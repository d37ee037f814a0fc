using System.Text.Json.Nodes;
using RecSys.Engine.Experiments;

namespace RecSys.Server.Experiments;

/// <summary>An experiment's report from a deployment's stores: the admin endpoint and <c>recsys ab report</c> build it the same way.</summary>
public static class ExperimentReports
{
    /// <summary>Joins the experiment's stored exposures with the plays of its attribution span and computes the report.</summary>
    public static JsonObject Build(ExperimentStores stores, ExperimentDefinition experiment, DateTime nowUtc, bool cuped = true)
    {
        var (from, to) = ExperimentReport.PlaySpan(experiment, nowUtc);
        var attribution = Attribution.Run(experiment, stores.ReadExposures(experiment.Id), stores.Plays(from, to));
        var report = ExperimentReport.Build(experiment, attribution, nowUtc, cuped);
        report["plays_source"] = stores.PlaysSource;
        return report;
    }
}
