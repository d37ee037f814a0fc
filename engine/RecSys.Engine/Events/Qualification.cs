namespace RecSys.Engine.Events;

/// <summary>The rule that turns plays into positive signals, shared by the SQL and in-memory paths.</summary>
public static class Qualification
{
    public const int MinMilestone = 75;
}
