using RecSys.Engine.Model;

namespace RecSys.Tests.Model;

public sealed class NpyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Header_is_padded_to_64_bytes_and_round_trips(int n)
    {
        var data = Enumerable.Range(0, n).Select(i => (long)i * 3 - 7).ToArray();
        using var ms = new MemoryStream();
        Npy.Write<long>(ms, data, [n]);
        long dataStart = ms.Length - n * 8L;
        Assert.Equal(0, dataStart % 64);
        ms.Position = 0;
        var a = Npy.Read(ms, "x");
        Assert.Equal([(long)n], a.Shape);
        Assert.Equal(data, a.ToInt64());
    }

    [Fact]
    public void Truncated_data_names_the_entry()
    {
        using var ms = new MemoryStream();
        Npy.Write<float>(ms, [1, 2, 3], [3]);
        var cut = new MemoryStream(ms.ToArray()[..^2]);
        var e = Assert.Throws<ModelFormatException>(() => Npy.Read(cut, "item_factors"));
        Assert.Contains("entry 'item_factors': truncated data", e.Message);
    }

    [Fact]
    public void Bad_magic_is_refused()
    {
        var e = Assert.Throws<ModelFormatException>(() => Npy.Read(new MemoryStream("not numpy data"u8.ToArray()), "x"));
        Assert.Contains("bad magic", e.Message);
    }

    [Fact]
    public void Shape_must_match_data()
    {
        Assert.Throws<ArgumentException>(() => Npy.Write<float>(new MemoryStream(), [1, 2, 3], [2, 2]));
    }
}
