using System.Buffers.Binary;

namespace RecSys.Engine.IO;

/// <summary>CRC-32C (Castagnoli) through the processor's CRC32 instructions, 8 bytes a step: the record checksum of the event and exposure logs.</summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = System.Numerics.BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = System.Numerics.BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }
}
