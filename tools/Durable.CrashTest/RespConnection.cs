using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durable.CrashTest;

/// <summary>A minimal blocking RESP client: bulk, integer and status replies, arrays of bulk strings, pipelined sends.</summary>
internal sealed class RespConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _reader;

    public RespConnection(int port)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        _stream = new NetworkStream(_socket, ownsSocket: true) { ReadTimeout = 30_000, WriteTimeout = 30_000 };
        _reader = new BufferedStream(_stream, 64 * 1024);
    }

    public void Send(params string[] args)
    {
        StringBuilder text = new();
        text.Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        _stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>
    /// One reply: "+OK", ":5", "$value" (bulk, with a '$' prefix), "$nil", "-ERR ...", or for an array its header
    /// ("*3"), its elements read and dropped.
    /// </summary>
    public string Read()
    {
        string line = ReadLine();
        if (line.Length == 0)
        {
            throw new IOException("empty reply line");
        }

        if (line[0] == '*')
        {
            int count = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            for (int i = 0; i < count; i++)
            {
                Read();
            }

            return line;
        }

        if (line[0] != '$')
        {
            return line;
        }

        int length = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        if (length < 0)
        {
            return "$nil";
        }

        byte[] data = new byte[length + 2];
        _reader.ReadExactly(data);
        return "$" + Encoding.UTF8.GetString(data, 0, length);
    }

    /// <summary>Reads a SCAN reply, adding its keys to <paramref name="keys"/>; returns the next cursor.</summary>
    public string ReadScanPage(ISet<string> keys)
    {
        string header = ReadLine();
        if (header != "*2")
        {
            throw new IOException("not a SCAN reply: " + header);
        }

        string cursor = Read()[1..];
        int count = int.Parse(ReadLine().AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < count; i++)
        {
            keys.Add(Read()[1..]);
        }

        return cursor;
    }

    public string Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends a command whose reply is an array of bulk strings; returns them (an error reply throws).</summary>
    public List<string> CallArray(params string[] args)
    {
        Send(args);
        string header = ReadLine();
        if (!header.StartsWith('*'))
        {
            throw new InvalidDataException($"{args[0]} replied {header}, not an array");
        }

        int count = int.Parse(header.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        List<string> items = new(Math.Max(count, 0));
        for (int i = 0; i < count; i++)
        {
            items.Add(Read()[1..]);
        }

        return items;
    }

    private string ReadLine()
    {
        StringBuilder line = new();
        while (true)
        {
            int b = _reader.ReadByte();
            if (b < 0)
            {
                throw new IOException("connection closed");
            }

            if (b == '\r')
            {
                _reader.ReadByte();
                return line.ToString();
            }

            line.Append((char)b);
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}
