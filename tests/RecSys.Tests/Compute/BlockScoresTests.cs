using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Tests.Compute;

/// <summary>
/// The four-query block kernel (512- and 256-bit paths, the one-query fallback and the scalar loop)
/// against a double-precision oracle, over factor counts 1..130 and the padding rows of a last pair
/// of tiles. Tolerance: abs 1e-4·√k + rel 1e-4 (float sums of up to 130 terms in [-1, 1]).
/// </summary>
[Trait("Category", "Simd")]
public sealed class BlockScoresTests
{
    public static TheoryData<int> Sizes => [.. Enumerable.Range(1, 130)];

    private delegate void Kernel(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> queries, Span<float> scores);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_path_matches_the_oracle(int k)
    {
        var rng = new SplitMix((ulong)k + 1000);
        foreach (int rows in new[] { 1, 31, 32, 33, 70 })
        {
            var matrix = Enumerable.Range(0, rows * k).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
            var queries = Enumerable.Range(0, BlockScores.Users * k).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
            // Padded to whole pairs of tiles, as NormOrderedItems pads them.
            int pairs = (rows + BlockScores.Rows - 1) / BlockScores.Rows;
            var padded = new float[pairs * BlockScores.Rows * k];
            matrix.CopyTo(padded, 0);
            var tiles = TiledScores.Tile(padded, k);
            (string, Kernel)[] paths = [("scalar", BlockScores.ScoreScalar), ("each", BlockScores.ScoreEach), ("256", BlockScores.Score256), ("512", BlockScores.Score512)];
            var scores = new float[BlockScores.Users * BlockScores.Rows];
            for (int pair = 0; pair < pairs; pair++)
            {
                int tile = pair * 2;
                BlockScores.Score(tiles, tile, k, queries, scores);
                Check("dispatch");
                foreach (var (name, kernel) in paths)
                {
                    Array.Fill(scores, float.NaN);
                    kernel(tiles.AsSpan(tile * TiledScores.Width * k, BlockScores.Rows * k), k, queries, scores);
                    Check(name);
                }

                void Check(string path)
                {
                    for (int u = 0; u < BlockScores.Users; u++)
                    {
                        for (int lane = 0; lane < BlockScores.Rows; lane++)
                        {
                            int row = pair * BlockScores.Rows + lane;
                            double expected = row < rows ? Enumerable.Range(0, k).Sum(f => (double)matrix[row * k + f] * queries[u * k + f]) : 0;
                            Tolerance.AssertClose(expected, scores[u * BlockScores.Rows + lane], 1e-4 * Math.Max(1, Math.Sqrt(k)), 1e-4, $"{path} k={k} rows={rows} user {u} row {row}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Sizes_that_disagree_are_refused()
    {
        var tiles = new float[2 * TiledScores.Width * 8];
        var scores = new float[BlockScores.Users * BlockScores.Rows];
        Assert.Throws<ArgumentException>(() => BlockScores.Score(tiles, 0, 8, new float[3 * 8], scores));
        Assert.Throws<ArgumentException>(() => BlockScores.Score(tiles, 0, 8, new float[4 * 8], new float[10]));
        Assert.Throws<ArgumentException>(() => BlockScores.Score(tiles, 1, 8, new float[4 * 8], scores));
    }
}
