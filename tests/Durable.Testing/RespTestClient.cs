using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durable.Testing;

/// <summary>
/// A raw-socket RESP client for exact-byte assertions: sends commands as RESP arrays (or raw bytes) and reads back
/// exactly one reply, returned as the bytes on the wire.
/// </summary>
public sealed class RespTestClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Func<string>? _describeServer;

    private RespTestClient(Socket socket, Func<string>? describeServer)
    {
        _socket = socket;
        _describeServer = describeServer;
        _stream = new NetworkStream(socket, ownsSocket: true) { ReadTimeout = 30_000 };
    }

    /// <summary>
    /// Connects to a server on loopback <paramref name="port"/>; <paramref name="describeServer"/>, when given, says
    /// what the server did (its exit code, its last log lines) in the error of a connection it closed.
    /// </summary>
    public static RespTestClient Connect(int port, Func<string>? describeServer = null)
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return new RespTestClient(socket, describeServer);
    }

    /// <summary>Encodes a command as a RESP array of bulk strings (Latin-1, so any byte can be expressed).</summary>
    public static byte[] Encode(params string[] args)
    {
        StringBuilder text = new();
        text.Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            text.Append('$').Append(Encoding.Latin1.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(text.ToString());
    }

    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    public void SendRaw(string latin1) => SendRaw(Encoding.Latin1.GetBytes(latin1));

    public void Send(params string[] args) => SendRaw(Encode(args));

    /// <summary>Sends one command and returns its reply as a Latin-1 string of the exact bytes.</summary>
    public string Call(params string[] args)
    {
        Send(args);
        return ReadReply();
    }

    /// <summary>A numeric field of one INFO section (for example <c>durable_pending_reads</c> of <c>memory</c>).</summary>
    public long InfoNumber(string section, string field)
    {
        string info = Call("INFO", section);
        int start = info.IndexOf(field + ":", StringComparison.Ordinal);
        if (start < 0)
        {
            throw new InvalidOperationException($"INFO {section} has no field {field}");
        }

        start += field.Length + 1;
        return long.Parse(info[start..info.IndexOf('\r', start)], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Reads exactly one complete RESP reply (nested aggregates included).</summary>
    public string ReadReply()
    {
        int position = 0;
        while (true)
        {
            position = 0;
            if (TryParse(ref position))
            {
                string reply = Encoding.Latin1.GetString([.. _pending.GetRange(0, position)]);
                _pending.RemoveRange(0, position);
                return reply;
            }

            int read;
            try
            {
                read = _stream.Read(_buffer);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                throw new IOException($"no reply within {_stream.ReadTimeout / 1000} s; unread bytes: {Encoding.Latin1.GetString([.. _pending])}\n{StallReport.TakeOnce()}", e);
            }

            if (read == 0)
            {
                throw new IOException("connection closed by server; unread bytes: " + Encoding.Latin1.GetString([.. _pending])
                    + (_describeServer is null ? string.Empty : "\n" + _describeServer()));
            }

            _pending.AddRange(_buffer.AsSpan(0, read));
        }
    }

    /// <summary>
    /// Reads a primary's snapshot as a replica gets it after +FULLRESYNC: newlines that keep the link alive, then
    /// "$length" CRLF and that many bytes, with no CRLF after them. Returns the bytes.
    /// </summary>
    public byte[] ReadSyncPayload()
    {
        while (true)
        {
            while (_pending.Count > 0 && _pending[0] == '\n')
            {
                _pending.RemoveAt(0);
            }

            int line = IndexOfCrLf(0);
            if (line > 0)
            {
                int length = int.Parse(Encoding.ASCII.GetString([.. _pending.GetRange(1, line - 1)]), System.Globalization.CultureInfo.InvariantCulture);
                if (_pending.Count >= line + 2 + length)
                {
                    byte[] payload = [.. _pending.GetRange(line + 2, length)];
                    _pending.RemoveRange(0, line + 2 + length);
                    return payload;
                }
            }

            int read = _stream.Read(_buffer);
            if (read == 0)
            {
                throw new IOException("connection closed by the primary before its snapshot was complete");
            }

            _pending.AddRange(_buffer.AsSpan(0, read));
        }
    }

    /// <summary>True once the server has closed the connection (after any unread replies).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            int read = _stream.Read(_buffer);
            _pending.AddRange(_buffer.AsSpan(0, read));
            return read == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private bool TryParse(ref int position)
    {
        int line = IndexOfCrLf(position);
        if (line < 0)
        {
            return false;
        }

        char type = (char)_pending[position];
        string header = Encoding.Latin1.GetString([.. _pending.GetRange(position + 1, line - position - 1)]);
        position = line + 2;
        switch (type)
        {
            case '$' or '=' or '!':
                int length = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return true;
                }

                if (_pending.Count < position + length + 2)
                {
                    return false;
                }

                position += length + 2;
                return true;
            case '*' or '~' or '>' or '%' or '|':
                int count = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                if (type is '%' or '|')
                {
                    count *= 2;
                }

                for (int i = 0; i < count; i++)
                {
                    if (!TryParse(ref position))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    private int IndexOfCrLf(int from)
    {
        for (int i = from; i + 1 < _pending.Count; i++)
        {
            if (_pending[i] == '\r' && _pending[i + 1] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    public void Dispose() => _stream.Dispose();
}
