using Npgsql;
using RecSys.Engine.Data;

namespace RecSys.Server.Cluster;

/// <summary>
/// The tables replicas share (created when missing; every statement is idempotent, so replicas starting
/// together may all run it): the registry's one row (current version and promotion history), every
/// change to it, every stored version's manifest, and every training run with the node that ran it.
/// </summary>
public static class ClusterSchema
{
    /// <summary>Channel a promotion or rollback notifies, with the new current version as payload.</summary>
    public const string Channel = "recsys_model";

    /// <summary>pg_advisory_lock key of the one trainer (a constant: "recsys-t" as bytes).</summary>
    public const long TrainerLockKey = 0x7265637379732D74;

    private const string Sql = """
        CREATE TABLE IF NOT EXISTS recsys_model_registry (
            id int PRIMARY KEY CHECK (id = 1),
            current_version text,
            history text[] NOT NULL DEFAULT '{}',
            changed_at timestamptz NOT NULL DEFAULT now(),
            changed_by text
        );
        CREATE TABLE IF NOT EXISTS recsys_model_changes (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            node text NOT NULL,
            action text NOT NULL,
            version text
        );
        CREATE TABLE IF NOT EXISTS recsys_model_versions (
            version text PRIMARY KEY,
            added_at timestamptz NOT NULL DEFAULT now(),
            added_by text NOT NULL,
            manifest jsonb NOT NULL
        );
        CREATE TABLE IF NOT EXISTS recsys_trainings (
            id bigserial PRIMARY KEY,
            node text NOT NULL,
            trigger text NOT NULL,
            scheduled_for timestamptz UNIQUE,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            ok boolean,
            version text,
            promoted boolean,
            message text
        );
        """;

    /// <summary>Creates what is missing (replicas may race: see <see cref="IdempotentDdl"/>).</summary>
    public static void Ensure(NpgsqlConnection connection) => IdempotentDdl.Run(connection, Sql);
}
