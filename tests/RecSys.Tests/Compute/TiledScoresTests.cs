using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Tests.Compute;

/// <summary>
/// The tiled scoring kernel (every vector width and the scalar fallback) against a double-precision
/// oracle over every factor count 1..256 and row counts that leave the last tile partial.
/// Tolerance: abs 1e-4·√k + rel 1e-4 (float sums of up to 256 terms in [-1, 1]).
/// </summary>
[Trait("Category", "Simd")]
public sealed class TiledScoresTests
{
    public static TheoryData<int> Sizes => [.. Enumerable.Range(1, 256)];

    private delegate void Kernel(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_path_matches_the_oracle(int k)
    {
        var rng = new SplitMix((ulong)k);
        foreach (int rows in new[] { 1, 15, 16, 17, 37 })
        {
            var matrix = Enumerable.Range(0, rows * k).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
            var query = Enumerable.Range(0, k).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
            var tiles = TiledScores.Tile(matrix, k);
            int tileCount = (rows + TiledScores.Width - 1) / TiledScores.Width;
            Assert.Equal(tileCount * TiledScores.Width * k, tiles.Length);
            // Every path, whatever the machine has: a width without hardware support runs in software.
            (string, Kernel)[] paths = [("scalar", TiledScores.ScoreScalar), ("128", TiledScores.Score128), ("256", TiledScores.Score256), ("512", TiledScores.Score512)];
            var scores = new float[TiledScores.Width];
            for (int tile = 0; tile < tileCount; tile++)
            {
                var block = tiles.AsSpan(tile * TiledScores.Width * k, TiledScores.Width * k);
                TiledScores.Score(tiles, tile, k, query, scores);
                Check("dispatch");
                foreach (var (name, kernel) in paths)
                {
                    Array.Clear(scores);
                    kernel(block, k, query, scores);
                    Check(name);
                }

                void Check(string path)
                {
                    for (int lane = 0; lane < TiledScores.Width; lane++)
                    {
                        int row = tile * TiledScores.Width + lane;
                        // Padding rows are zeros: their score is 0.
                        double expected = row < rows ? Enumerable.Range(0, k).Sum(f => (double)matrix[row * k + f] * query[f]) : 0;
                        Tolerance.AssertClose(expected, scores[lane], 1e-4 * Math.Max(1, Math.Sqrt(k)), 1e-4, $"{path} k={k} rows={rows} row {row}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Sizes_that_disagree_are_refused()
    {
        var tiles = TiledScores.Tile(new float[3 * 5], 5);
        var scores = new float[TiledScores.Width];
        Assert.Throws<ArgumentException>(() => TiledScores.Score(tiles, 1, 5, new float[5], scores));
        Assert.Throws<ArgumentException>(() => TiledScores.Score(tiles, 0, 5, new float[4], scores));
        Assert.Throws<ArgumentException>(() => TiledScores.Score(tiles, 0, 5, new float[5], new float[15]));
        Assert.Throws<ArgumentException>(() => TiledScores.Score(tiles, -1, 5, new float[5], scores));
        Assert.Throws<ArgumentException>(() => TiledScores.Tile(new float[7], 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TiledScores.Tile([], 0));
    }
}
