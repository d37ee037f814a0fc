using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RecSys.Engine.Ann;

/// <summary>
/// The vectors a graph is built over, in rows padded with zeros to a multiple of 16 floats so the
/// distance is a fixed number of full-width FMAs. Distance is 1 − dot (unit vectors: cosine distance).
/// </summary>
internal sealed class VectorStore
{
    public VectorStore(int count, int dimensions)
    {
        Count = count;
        Dimensions = dimensions;
        Stride = (dimensions + 15) / 16 * 16;
        Data = new float[(long)count * Stride];
    }

    public int Count { get; }
    public int Dimensions { get; }
    public int Stride { get; }
    public float[] Data { get; }

    public Span<float> Row(int i) => Data.AsSpan(i * Stride, Stride);

    /// <summary>Copies a query into a padded buffer of <see cref="Stride"/> floats.</summary>
    public float[] PadQuery(ReadOnlySpan<float> query)
    {
        var padded = new float[Stride];
        query.CopyTo(padded);
        return padded;
    }

    /// <summary>Asks the cache for a row that is about to be compared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int node)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        byte* p = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data), (nint)node * Stride));
        for (int offset = 0; offset < Stride * 4; offset += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Distance(ReadOnlySpan<float> query, int node) => 1f - Dot(query, node);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Distance(int a, int b) => 1f - Dot(Data.AsSpan(a * Stride, Stride), b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Dot(ReadOnlySpan<float> query, int node)
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float row = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data), (nint)node * Stride);
        if (Vector512.IsHardwareAccelerated)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            int j = 0;
            for (; j + 32 <= Stride; j += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)j), Vector512.LoadUnsafe(ref q, (nuint)j), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)j + 16), Vector512.LoadUnsafe(ref q, (nuint)j + 16), acc1);
            }
            if (j < Stride)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)j), Vector512.LoadUnsafe(ref q, (nuint)j), acc0);
            }
            return Vector512.Sum(acc0 + acc1);
        }
        return TensorPrimitives.Dot(MemoryMarshal.CreateReadOnlySpan(ref row, Stride), query[..Stride]);
    }
}
