using System.CommandLine;
using RecSys.Engine.Data;
using RecSys.Server.Sources;

namespace RecSys.Server.Cli;

/// <summary>The interaction-source options of a command, and loading the source they describe.</summary>
internal sealed class InputOptions
{
    public InputOptions(bool inputRequired = true) => Input = CliOptions.Input(inputRequired);

    public Option<string> Input { get; }
    public Option<string> Format { get; } = CliOptions.Format();
    public Option<bool> SkipBadRows { get; } = CliOptions.SkipBadRows();
    public Option<string?> Db { get; } = CliOptions.Db();
    public Option<int> DemoUsers { get; } = CliOptions.DemoUsers();
    public Option<int> DemoTracks { get; } = CliOptions.DemoTracks();
    public Option<long> DemoPlays { get; } = CliOptions.DemoPlays();
    public Option<ulong> DemoSeed { get; } = CliOptions.DemoSeed();
    public SettingsOption Settings { get; } = new("Database table and column names as Key=Value, e.g. --set Db:Interactions:Table=app.plays --set Db:Tracks:Id=id (docs/database.md)");

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Input, Format, SkipBadRows, Db, DemoUsers, DemoTracks, DemoPlays, DemoSeed, Settings.Set })
        {
            command.Options.Add(o);
        }
    }

    public DemoOptions Demo(ParseResult r) => new()
    {
        Users = r.GetValue(DemoUsers),
        Tracks = r.GetValue(DemoTracks),
        Plays = r.GetValue(DemoPlays),
        Seed = r.GetValue(DemoSeed),
    };

    /// <summary>The database this command was pointed at (--db, RECSYS_DB or RecSys:Db) and its mapping.</summary>
    public DbSettings DbSettings(ParseResult r) => Settings.Db(r, r.GetValue(Db));

    public async Task<InteractionData> LoadAsync(ParseResult r, CancellationToken cancellationToken)
    {
        string input = r.GetValue(Input)!;
        var db = InteractionSources.IsDatabase(input) ? DbSettings(r) : new DbSettings(null, new PostgresMapping());
        return await InteractionSources.LoadAsync(
            input, DelimitedLayout.ParseFormat(r.GetValue(Format)!), r.GetValue(SkipBadRows), db.ConnectionString, db.Mapping, Demo(r), cancellationToken);
    }
}
