using System.Buffers.Text;
using System.Text;

namespace RecSys.Bench.Load;

/// <summary>
/// Finds where one HTTP/1.1 response ends in the bytes received so far (Content-Length or chunked
/// bodies), so the load driver knows when a request is answered without parsing more than it needs.
/// </summary>
public static class HttpResponseFrame
{
    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    /// <summary>
    /// The length of the first complete response in <paramref name="received"/>, or 0 while it is
    /// incomplete; <paramref name="status"/> is its status code once the status line has arrived.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not an HTTP/1.1 response this driver can frame.</exception>
    public static int CompleteLength(ReadOnlySpan<byte> received, out int status)
    {
        status = 0;
        int headerEnd = received.IndexOf(HeaderEnd);
        if (headerEnd < 0) return 0;
        ReadOnlySpan<byte> head = received[..headerEnd];
        status = StatusCode(head);
        int bodyStart = headerEnd + HeaderEnd.Length;

        if (TryHeaderValue(head, "content-length"u8, out ReadOnlySpan<byte> lengthText))
        {
            if (!Utf8Parser.TryParse(lengthText, out int length, out int used) || used != lengthText.Length || length < 0)
            {
                throw new FormatException($"bad Content-Length '{Encoding.ASCII.GetString(lengthText)}'");
            }
            return received.Length - bodyStart >= length ? bodyStart + length : 0;
        }
        if (TryHeaderValue(head, "transfer-encoding"u8, out ReadOnlySpan<byte> encoding) && Ascii.EqualsIgnoreCase(encoding, "chunked"u8))
        {
            return ChunkedEnd(received, bodyStart);
        }
        if (status is 204 or 304 || status < 200) return bodyStart;
        throw new FormatException($"response with status {status} has neither Content-Length nor chunked encoding");
    }

    private static int StatusCode(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK"
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || head[8] != (byte)' '
            || !Utf8Parser.TryParse(head.Slice(9, 3), out int status, out int used) || used != 3)
        {
            throw new FormatException($"not an HTTP/1.x status line: '{Encoding.ASCII.GetString(head[..Math.Min(head.Length, 40)])}'");
        }
        return status;
    }

    private static bool TryHeaderValue(ReadOnlySpan<byte> head, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        int lineStart = head.IndexOf(Crlf);
        while (lineStart >= 0)
        {
            ReadOnlySpan<byte> rest = head[(lineStart + 2)..];
            int lineEnd = rest.IndexOf(Crlf);
            ReadOnlySpan<byte> line = lineEnd < 0 ? rest : rest[..lineEnd];
            int colon = line.IndexOf((byte)':');
            if (colon == name.Length && Ascii.EqualsIgnoreCase(line[..colon], name))
            {
                value = line[(colon + 1)..].Trim((byte)' ');
                return true;
            }
            if (lineEnd < 0) break;
            lineStart += 2 + lineEnd;
        }
        return false;
    }

    /// <summary>End of a chunked body starting at <paramref name="at"/> (trailers included), or 0 while incomplete.</summary>
    private static int ChunkedEnd(ReadOnlySpan<byte> received, int at)
    {
        while (true)
        {
            int sizeEnd = received[at..].IndexOf(Crlf);
            if (sizeEnd < 0) return 0;
            ReadOnlySpan<byte> sizeText = received.Slice(at, sizeEnd);
            int extension = sizeText.IndexOf((byte)';');
            if (extension >= 0) sizeText = sizeText[..extension];
            if (!Utf8Parser.TryParse(sizeText, out int size, out int used, 'x') || used != sizeText.Length || size < 0)
            {
                throw new FormatException($"bad chunk size '{Encoding.ASCII.GetString(sizeText)}'");
            }
            at += sizeEnd + 2;
            if (size == 0)
            {
                ReadOnlySpan<byte> trailers = received[at..];
                if (trailers.StartsWith(Crlf)) return at + 2;
                int trailersEnd = trailers.IndexOf(HeaderEnd);
                return trailersEnd < 0 ? 0 : at + trailersEnd + HeaderEnd.Length;
            }
            if (received.Length - at < size + 2) return 0;
            at += size + 2;
        }
    }
}
