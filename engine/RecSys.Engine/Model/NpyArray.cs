using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RecSys.Engine.Model;

/// <summary>
/// One array read from a .npy file: its dtype (numpy's descr, e.g. "&lt;f4"), shape, and data in
/// little-endian C order (big-endian and Fortran-ordered inputs are converted on read).
/// </summary>
public sealed class NpyArray
{
    internal NpyArray(string name, char kind, int itemSize, long[] shape, byte[] data)
    {
        Name = name;
        Kind = kind;
        ItemSize = itemSize;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }

    /// <summary>numpy's kind character: 'f' float, 'i' signed, 'u' unsigned, 'b' bool.</summary>
    public char Kind { get; }
    public int ItemSize { get; }
    public long[] Shape { get; }
    internal byte[] Data { get; }

    public string DType => $"<{Kind}{ItemSize}";
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");

    /// <summary>Float32 values; float64 is narrowed (numpy users often save float64 factors).</summary>
    public float[] ToFloat32()
    {
        return (Kind, ItemSize) switch
        {
            ('f', 4) => MemoryMarshal.Cast<byte, float>(Data).ToArray(),
            ('f', 8) => Array.ConvertAll(MemoryMarshal.Cast<byte, double>(Data).ToArray(), d => (float)d),
            ('f', 2) => Array.ConvertAll(MemoryMarshal.Cast<byte, Half>(Data).ToArray(), h => (float)h),
            _ => throw new ModelFormatException($"entry '{Name}': dtype {DType} where float32 was expected"),
        };
    }

    /// <summary>Int64 values; narrower integer types are widened, uint64 only when every value fits.</summary>
    public long[] ToInt64()
    {
        var data = Data.AsSpan();
        return (Kind, ItemSize) switch
        {
            ('i', 8) => MemoryMarshal.Cast<byte, long>(data).ToArray(),
            ('i', 4) => Array.ConvertAll(MemoryMarshal.Cast<byte, int>(data).ToArray(), v => (long)v),
            ('i', 2) => Array.ConvertAll(MemoryMarshal.Cast<byte, short>(data).ToArray(), v => (long)v),
            ('i', 1) => Array.ConvertAll(MemoryMarshal.Cast<byte, sbyte>(data).ToArray(), v => (long)v),
            ('u', 4) => Array.ConvertAll(MemoryMarshal.Cast<byte, uint>(data).ToArray(), v => (long)v),
            ('u', 2) => Array.ConvertAll(MemoryMarshal.Cast<byte, ushort>(data).ToArray(), v => (long)v),
            ('u', 1) => Array.ConvertAll(data.ToArray(), v => (long)v),
            ('u', 8) => Array.ConvertAll(MemoryMarshal.Cast<byte, ulong>(data).ToArray(), v => v <= long.MaxValue
                ? (long)v
                : throw new ModelFormatException($"entry '{Name}': uint64 value {v} does not fit int64")),
            _ => throw new ModelFormatException($"entry '{Name}': dtype {DType} where an integer type was expected"),
        };
    }

    /// <summary>Int32 values; int64 is narrowed when every value fits.</summary>
    public int[] ToInt32()
    {
        if (Kind == 'i' && ItemSize == 4)
        {
            return MemoryMarshal.Cast<byte, int>(Data).ToArray();
        }
        long[] wide = ToInt64();
        var result = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            if (wide[i] is < int.MinValue or > int.MaxValue)
            {
                throw new ModelFormatException($"entry '{Name}': value {wide[i]} at position {i} does not fit int32");
            }
            result[i] = (int)wide[i];
        }
        return result;
    }

    public byte[] ToBytes() => Kind is 'u' or 'i' && ItemSize == 1
        ? (byte[])Data.Clone()
        : throw new ModelFormatException($"entry '{Name}': dtype {DType} where uint8 was expected");

    internal static void SwapInPlace(byte[] bytes, int itemSize)
    {
        Span<byte> data = bytes;
        switch (itemSize)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(data), MemoryMarshal.Cast<byte, ushort>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(data), MemoryMarshal.Cast<byte, uint>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(data), MemoryMarshal.Cast<byte, ulong>(data)); break;
        }
    }
}
