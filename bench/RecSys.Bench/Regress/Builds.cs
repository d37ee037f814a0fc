namespace RecSys.Bench.Regress;

/// <summary>The bench builds a regression run compares: a git ref built in a worktree of its own, and the working tree.</summary>
public static class Builds
{
    /// <summary>The folder holding RecSys.sln, above the running build or else above the current directory.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RecSys.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException("regress: run it from inside the repository (no RecSys.sln above here)");
    }

    /// <summary>REF checked out in a worktree of its own under DIR and built there; the worktree is removed after.</summary>
    public static string BuildRef(string reference, string outDir)
    {
        string root = RepositoryRoot();
        string tree = Path.Combine(outDir, "baseline-src");
        if (Directory.Exists(tree)) Git(root, "worktree", "remove", "--force", tree);
        Git(root, "worktree", "add", "--detach", tree, reference);
        try
        {
            return Build(tree, Path.Combine(outDir, "baseline"));
        }
        finally
        {
            Git(root, "worktree", "remove", "--force", tree);
        }
    }

    /// <summary>The bench project of <paramref name="tree"/> built in Release into <paramref name="output"/>.</summary>
    public static string Build(string tree, string output, params string[] properties)
    {
        var arguments = new List<string> { "build", Path.Combine(tree, "bench", "RecSys.Bench"), "-c", "Release", "-o", output, "-v", "q", "-clp:ErrorsOnly", "-nologo" };
        arguments.AddRange(properties.Select(p => "-p:" + p));
        var (code, stdout, stderr) = BenchProcess.Exec("dotnet", arguments, tree, null);
        if (code != 0) throw new InvalidOperationException($"regress: building {tree} failed:\n{stdout}{stderr}");
        return output;
    }

    private static void Git(string root, params string[] arguments)
    {
        var (code, stdout, stderr) = BenchProcess.Exec("git", arguments, root, null);
        if (code != 0) throw new InvalidOperationException($"regress: git {string.Join(' ', arguments)} failed: {(stdout + stderr).Trim()}");
    }

    /// <summary>A folder given as a build: it must hold RecSys.Bench.dll.</summary>
    public static string? Existing(string? folder, string option)
    {
        if (folder is null) return null;
        if (!File.Exists(Path.Combine(folder, "RecSys.Bench.dll"))) throw new ArgumentException($"{option}: {folder} holds no bench build (no RecSys.Bench.dll)");
        return Path.GetFullPath(folder);
    }
}
