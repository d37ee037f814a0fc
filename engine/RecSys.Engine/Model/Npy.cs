using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace RecSys.Engine.Model;

/// <summary>
/// The .npy format (numpy's NEP 1): magic, version, a Python-dict header (descr, fortran_order,
/// shape) padded to 64 bytes, then the raw data. Reads versions 1.0, 2.0 and 3.0; writes 1.0
/// (2.0 when the header would not fit a 16-bit length).
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write<T>(Stream stream, ReadOnlySpan<T> data, ReadOnlySpan<long> shape) where T : unmanaged
    {
        long expected = 1;
        foreach (long d in shape) expected *= d;
        if (expected != data.Length)
        {
            throw new ArgumentException($"shape ({string.Join(", ", shape.ToArray())}) holds {expected} values, data has {data.Length}");
        }
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape.ToArray()) + ")",
        };
        string header = $"{{'descr': '{Descr<T>()}', 'fortran_order': False, 'shape': {shapeText}, }}";
        bool v2 = header.Length + 11 > ushort.MaxValue;
        int prefix = Magic.Length + 2 + (v2 ? 4 : 2);
        int total = prefix + header.Length + 1;
        int padded = (total + 63) / 64 * 64;
        header = header + new string(' ', padded - total) + "\n";

        Span<byte> head = stackalloc byte[10];
        Magic.CopyTo(head);
        head[6] = (byte)(v2 ? 2 : 1);
        head[7] = 0;
        stream.Write(head[..8]);
        if (v2)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)header.Length);
            stream.Write(head[..4]);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)header.Length);
            stream.Write(head[..2]);
        }
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    /// <summary>Reads one array; <paramref name="name"/> is used in error messages.</summary>
    public static NpyArray Read(Stream stream, string name)
    {
        Span<byte> head = stackalloc byte[8];
        ReadExactly(stream, head, name, "magic");
        if (!head[..6].SequenceEqual(Magic))
        {
            throw new ModelFormatException($"entry '{name}': not a .npy array (bad magic)");
        }
        byte major = head[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            ReadExactly(stream, len, name, "header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            ReadExactly(stream, len, name, "header length");
            uint l = BinaryPrimitives.ReadUInt32LittleEndian(len);
            if (l > 1 << 20) throw new ModelFormatException($"entry '{name}': header length {l} is implausible");
            headerLength = (int)l;
        }
        else
        {
            throw new ModelFormatException($"entry '{name}': .npy format version {major}.{head[7]} is not supported (1.0, 2.0, 3.0 are)");
        }
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, name, "header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var (order, kind, itemSize) = ParseDescr(header, name);
        bool fortran = ParseFortran(header, name);
        long[] shape = ParseShape(header, name);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ModelFormatException($"entry '{name}': negative dimension in shape");
            count = checked(count * d);
        }
        long bytes = checked(count * itemSize);
        if (bytes > Array.MaxLength)
        {
            throw new ModelFormatException($"entry '{name}': {bytes} bytes is larger than one array can hold");
        }
        var data = new byte[bytes];
        ReadExactly(stream, data, name, "data");
        if (order == '>' && itemSize > 1)
        {
            NpyArray.SwapInPlace(data, itemSize);
        }
        if (fortran && shape.Length >= 2)
        {
            if (shape.Length > 2)
            {
                throw new ModelFormatException($"entry '{name}': Fortran-ordered arrays of more than 2 dimensions are not supported; save with np.ascontiguousarray");
            }
            data = FortranToC(data, shape[0], shape[1], itemSize);
        }
        return new NpyArray(name, kind, itemSize, shape, data);
    }

    private static byte[] FortranToC(byte[] data, long rows, long cols, int itemSize)
    {
        var result = new byte[data.Length];
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < cols; c++)
            {
                Array.Copy(data, (c * rows + r) * itemSize, result, (r * cols + c) * itemSize, itemSize);
            }
        }
        return result;
    }

    private static (char Order, char Kind, int ItemSize) ParseDescr(string header, string name)
    {
        var m = DescrRegex().Match(header);
        if (!m.Success)
        {
            var any = AnyDescrRegex().Match(header);
            string what = any.Success ? any.Groups[1].Value : "(none)";
            throw new ModelFormatException(
                $"entry '{name}': dtype {what} is not supported (numeric arrays only: float16/32/64, int8..64, uint8..64, bool)");
        }
        char order = m.Groups[1].Value[0];
        char kind = m.Groups[2].Value[0];
        int size = int.Parse(m.Groups[3].Value);
        bool valid = kind switch
        {
            'f' => size is 2 or 4 or 8,
            'i' or 'u' => size is 1 or 2 or 4 or 8,
            'b' => size == 1,
            _ => false,
        };
        if (!valid)
        {
            throw new ModelFormatException($"entry '{name}': dtype {m.Groups[0].Value} is not supported");
        }
        if (kind == 'b') kind = 'u';
        if (order == '=') order = BitConverter.IsLittleEndian ? '<' : '>';
        return (order, kind, size);
    }

    private static bool ParseFortran(string header, string name)
    {
        var m = FortranRegex().Match(header);
        return m.Success
            ? m.Groups[1].Value == "True"
            : throw new ModelFormatException($"entry '{name}': header has no fortran_order");
    }

    private static long[] ParseShape(string header, string name)
    {
        var m = ShapeRegex().Match(header);
        if (!m.Success)
        {
            throw new ModelFormatException($"entry '{name}': header has no shape");
        }
        return m.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d.TrimEnd('L'), out long v) ? v : throw new ModelFormatException($"entry '{name}': bad shape dimension '{d}'"))
            .ToArray();
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string part)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                throw new ModelFormatException($"entry '{name}': truncated {part} ({total} of {buffer.Length} bytes)");
            }
            total += n;
        }
    }

    internal static string Descr<T>() where T : unmanaged => typeof(T) switch
    {
        var t when t == typeof(float) => "<f4",
        var t when t == typeof(double) => "<f8",
        var t when t == typeof(long) => "<i8",
        var t when t == typeof(int) => "<i4",
        var t when t == typeof(byte) => "|u1",
        _ => throw new NotSupportedException($"no .npy dtype for {typeof(T).Name}"),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=])([fiub])(\d+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'descr'\s*:\s*('[^']*'|\[[^\]]*\])")]
    private static partial Regex AnyDescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
