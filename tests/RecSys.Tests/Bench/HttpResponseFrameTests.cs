using System.Text;
using RecSys.Bench.Load;

namespace RecSys.Tests.Bench;

public class HttpResponseFrameTests
{
    private static int Frame(string text, out int status) => HttpResponseFrame.CompleteLength(Encoding.ASCII.GetBytes(text), out status);

    [Fact]
    public void A_content_length_response_is_complete_only_with_its_whole_body()
    {
        const string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-LENGTH: 7\r\n\r\n[1,2,3]";
        for (int cut = 0; cut < response.Length; cut++)
        {
            Assert.Equal(0, Frame(response[..cut], out _));
        }
        Assert.Equal(response.Length, Frame(response, out int status));
        Assert.Equal(200, status);
    }

    [Fact]
    public void A_chunked_response_ends_after_its_last_chunk_and_trailers()
    {
        const string plain = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
        const string trailed = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n";
        foreach (string response in new[] { plain, trailed })
        {
            for (int cut = 0; cut < response.Length; cut++)
            {
                Assert.Equal(0, Frame(response[..cut], out _));
            }
            Assert.Equal(response.Length, Frame(response, out _));
        }
        Frame(plain, out int status);
        Assert.Equal(404, status);
    }

    [Fact]
    public void Bodiless_statuses_end_at_the_headers()
    {
        Assert.Equal(19, Frame("HTTP/1.1 204 OK\r\n\r\n", out int status));
        Assert.Equal(204, status);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("SMTP 220 ready\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nbody until close")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    public void What_cannot_be_framed_is_an_error_that_says_why(string response)
    {
        var error = Assert.Throws<FormatException>(() => Frame(response, out _));
        Assert.NotEmpty(error.Message);
    }
}
