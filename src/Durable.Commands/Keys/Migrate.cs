using System.Net;
using System.Net.Sockets;
using System.Text;
using Durable.Commands.PubSub;
using Durable.Commands.Scripting;
using Durable.Protocol;

namespace Durable.Commands.Keys;

/// <summary>
/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password] [KEYS key ...],
/// as Redis 7.0's migrateCommand: the keys go to the target as RESTOREs (after AUTH and SELECT), and each the target
/// took is deleted here unless COPY. It runs off the socket threads holding its keys' stripes, so that no other client
/// changes a key between its DUMP and its delete; the connection is opened for each call (Redis keeps one for 10 s).
/// </summary>
internal static class Migrate
{
    // Redis's buffers for the target's reply lines.
    private const int ReplyLineBytes = 1024;

    /// <summary>The keys of a call: the key argument, or (when it is empty) those after KEYS.</summary>
    public static void FindKeys(RespArgs args, List<int> keys)
    {
        int first = KeysOption(args);
        if (first < 0)
        {
            keys.Add(3);
            return;
        }

        for (int i = first; i < args.Count; i++)
        {
            keys.Add(i);
        }
    }

    // The index after KEYS, or -1.
    private static int KeysOption(RespArgs args)
    {
        for (int i = 6; i < args.Count; i++)
        {
            if (args.Is(i, "KEYS"u8))
            {
                return i + 1;
            }

            if (args.Is(i, "AUTH"u8))
            {
                i++;
            }
            else if (args.Is(i, "AUTH2"u8))
            {
                i += 2;
            }
        }

        return -1;
    }

    public static void Run(CommandContext context, RespArgs args)
    {
        bool copy = false;
        bool replace = false;
        byte[]? username = null;
        byte[]? password = null;
        int firstKey = 3;
        int keyCount = 1;
        for (int i = 6; i < args.Count; i++)
        {
            int more = args.Count - 1 - i;
            if (args.Is(i, "COPY"u8))
            {
                copy = true;
            }
            else if (args.Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (args.Is(i, "AUTH"u8) && more >= 1)
            {
                password = args[++i].ToArray();
            }
            else if (args.Is(i, "AUTH2"u8) && more >= 2)
            {
                username = args[++i].ToArray();
                password = args[++i].ToArray();
            }
            else if (args.Is(i, "KEYS"u8))
            {
                if (args[3].Length != 0)
                {
                    context.WriteError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"u8);
                    return;
                }

                firstKey = i + 1;
                keyCount = args.Count - i - 1;
                break;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (!RedisNumber.TryParseInt64(args[5], out long timeout) || !RedisNumber.TryParseInt64(args[4], out long db))
        {
            context.WriteNotInteger();
            return;
        }

        byte[][] keys = new byte[keyCount][];
        for (int i = 0; i < keyCount; i++)
        {
            keys[i] = args[firstKey + i].ToArray();
        }

        Request request = new(
            Encoding.Latin1.GetString(args[1]), AtoI(args[2]), db, timeout <= 0 ? 1000 : timeout, copy, replace, username, password, keys);
        ScriptingCommands.WhenNoScriptRuns(context, () => Send(context, request));
    }

    private sealed record Request(string Host, int Port, long Db, long TimeoutMs, bool Copy, bool Replace, byte[]? Username, byte[]? Password, byte[][] Keys);

    // C's atoi: leading digits (after a sign), 0 for none.
    private static int AtoI(ReadOnlySpan<byte> text)
    {
        long value = 0;
        int i = 0;
        bool negative = i < text.Length && text[i] == (byte)'-';
        if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
        {
            i++;
        }

        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9' && value < int.MaxValue; i++)
        {
            value = (value * 10) + (text[i] - '0');
        }

        return (int)Math.Clamp(negative ? -value : value, int.MinValue, int.MaxValue);
    }

    // Under the hold-and-wait lock, off the socket threads (inside EXEC: at once, every stripe held). The keys it
    // deletes reach the WAL and the replication stream before their stripes are let go (inside EXEC, with the EXEC's).
    private static void Send(CommandContext context, Request request)
    {
        using ScriptLocks locks = new(context.Store.Locks, holdsAll: context.Client.Transaction.Active);
        try
        {
            SendHolding(context, request, locks);
        }
        finally
        {
            if (!context.Client.Transaction.Active)
            {
                Server.Propagation.EndCall(context);
            }
        }
    }

    private static void SendHolding(CommandContext context, Request request, ScriptLocks locks)
    {
        List<(byte[] Key, byte[] Payload, long Ttl)> present = [];
        long now = context.NowMs;
        foreach (byte[] key in request.Keys)
        {
            locks.Take(key);
            if (DumpCommands.DumpPayload(context, key, out long expiresAtMs) is { } payload)
            {
                present.Add((key, payload, expiresAtMs == 0 ? 0 : Math.Max(1, expiresAtMs - now)));
            }
        }

        if (present.Count == 0)
        {
            context.WriteSimple("NOKEY"u8);
            return;
        }

        List<byte[]> commands = [];
        if (request.Password is not null)
        {
            commands.Add(request.Username is null ? Command(s_auth, request.Password) : Command(s_auth, request.Username, request.Password));
        }

        commands.Add(Command(s_select, Number(request.Db)));
        foreach ((byte[] key, byte[] payload, long ttl) in present)
        {
            commands.Add(request.Replace ? Command(s_restore, key, Number(ttl), payload, s_replace) : Command(s_restore, key, Number(ttl), payload));
        }

        List<string>? replies = Exchange(request, commands, out string? failure);
        if (replies is null)
        {
            context.WriteError(failure!);
            return;
        }

        // The AUTH and SELECT replies, then one per key: the first error is the reply; the keys the target took go,
        // none of them when AUTH or SELECT failed (as Redis, which then counts every key's RESTORE as failed).
        int header = commands.Count - present.Count;
        string? refused = replies.Take(header).FirstOrDefault(r => r.StartsWith('-'));
        string? error = refused;
        for (int i = 0; i < present.Count; i++)
        {
            string reply = replies[header + i];
            if (error is null && reply.StartsWith('-'))
            {
                error = reply;
            }

            if (refused is null && !reply.StartsWith('-') && !request.Copy && context.Session.Delete(context.Db, present[i].Key))
            {
                context.Notify(KeyspaceEventClass.Generic, "del"u8, present[i].Key);
                CommandDispatcher.KeysChanged(context, [present[i].Key]);
                context.PropagateAs("DEL"u8.ToArray(), present[i].Key.ToArray());
            }
        }

        if (error is not null)
        {
            context.WriteError("ERR Target instance replied with error: " + error[1..]);
            return;
        }

        context.WriteOk();
    }

    // Connects, sends the commands and reads one reply line each, within the timeout; null with Redis's IOERR otherwise.
    private static List<string>? Exchange(Request request, List<byte[]> commands, out string? failure)
    {
        failure = null;
        int timeout = (int)Math.Min(request.TimeoutMs, int.MaxValue / 1000);
        using Socket socket = new(SocketType.Stream, ProtocolType.Tcp);
        socket.SendTimeout = socket.ReceiveTimeout = timeout;
        try
        {
            // As Redis's connBlockingConnect: a connect that does not wait, then a wait of the timeout for the socket
            // to be writable. A refusal surfaces only when the commands are written, as for Redis.
            IPAddress[] addresses = Dns.GetHostAddresses(request.Host);
            socket.Blocking = false;
            try
            {
                socket.Connect(addresses, request.Port);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                if (!socket.Poll(timeout * 1000, SelectMode.SelectWrite) && !socket.Poll(0, SelectMode.SelectError))
                {
                    failure = "IOERR error or timeout connecting to the client";
                    return null;
                }
            }

            socket.Blocking = true;
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            failure = e is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? "IOERR error or timeout writing to target instance"
                : "IOERR error or timeout connecting to the client";
            return null;
        }

        bool writing = true;
        try
        {
            foreach (byte[] command in commands)
            {
                socket.Send(command);
            }

            writing = false;
            using NetworkStream stream = new(socket, ownsSocket: false);
            List<string> replies = [];
            for (int i = 0; i < commands.Count; i++)
            {
                replies.Add(ReadLine(stream));
            }

            return replies;
        }
        catch (IOException)
        {
            failure = $"IOERR error or timeout {(writing ? "writing" : "reading")} to target instance";
            return null;
        }
        catch (SocketException)
        {
            failure = $"IOERR error or timeout {(writing ? "writing" : "reading")} to target instance";
            return null;
        }
    }

    // One reply line (what Redis's syncReadLine keeps of it: at most its buffer, without the line end).
    private static string ReadLine(NetworkStream stream)
    {
        StringBuilder line = new();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new IOException("the target closed the connection");
            }

            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            if (line.Length < ReplyLineBytes - 1)
            {
                line.Append((char)b);
            }
        }
    }

    private static readonly byte[] s_auth = "AUTH"u8.ToArray();
    private static readonly byte[] s_select = "SELECT"u8.ToArray();
    private static readonly byte[] s_restore = "RESTORE"u8.ToArray();
    private static readonly byte[] s_replace = "REPLACE"u8.ToArray();

    private static byte[] Command(params byte[][] parts)
    {
        System.Buffers.ArrayBufferWriter<byte> output = new();
        RespWriter.WriteArrayHeader(output, parts.Length);
        foreach (byte[] part in parts)
        {
            RespWriter.WriteBulkString(output, part);
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[] Number(long value) => Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
