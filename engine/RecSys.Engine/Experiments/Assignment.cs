using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RecSys.Engine.Experiments;

/// <summary>
/// Deterministic assignment: a user's place in a salt's hash space, the same in every process, replica
/// and release (XxHash3 of the user id, seeded by the salt's own XxHash3: no per-process randomisation
/// as string.GetHashCode has).
/// </summary>
public static class Assignment
{
    /// <summary>The salt of the user layer all experiments share: disjoint layer ranges are disjoint users.</summary>
    public const string LayerSalt = "recsys-layer";

    public static long Seed(string salt) => (long)XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(salt));

    /// <summary>Uniform in [0, 1) for (seed, user).</summary>
    public static double Unit(long seed, long userId)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, userId);
        return (XxHash3.HashToUInt64(bytes, seed) >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>The arm that <paramref name="unit"/> falls into, arms taking consecutive shares of [0, 1) by weight.</summary>
    public static int Arm(double unit, ReadOnlySpan<double> cumulativeShares)
    {
        for (int i = 0; i < cumulativeShares.Length - 1; i++)
        {
            if (unit < cumulativeShares[i]) return i;
        }
        return cumulativeShares.Length - 1;
    }

    /// <summary>Each arm's upper end in [0, 1]: the running sum of the weights, normalised.</summary>
    public static double[] CumulativeShares(IReadOnlyList<double> weights)
    {
        double total = weights.Sum(), sum = 0;
        var shares = new double[weights.Count];
        for (int i = 0; i < shares.Length; i++) shares[i] = (sum += weights[i]) / total;
        shares[^1] = 1;
        return shares;
    }
}
