namespace RecSys.Engine.Experiments;

/// <summary>A user's arm in an experiment, as an answer serves it.</summary>
public sealed record ArmAssignment(LiveExperiment Experiment, int Arm, bool Overridden, bool Logged)
{
    public ExperimentArm Definition => Experiment.Definition.Arms[Arm];
    public ArmStrategy Strategy => Experiment.Strategies[Arm];
}
