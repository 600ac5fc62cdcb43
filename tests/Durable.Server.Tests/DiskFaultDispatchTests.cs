using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Durable.Commands;
using Durable.Commands.Server;
using Durable.Protocol;
using Durable.Storage;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Server.Tests;

/// <summary>
/// The write-ahead log's disk fails under the command dispatcher: SET gets Redis's MISCONF error, GET goes on,
/// INFO says so; once the disk works again SET works again without a restart, and a restart afterwards finds every
/// acknowledged write.
/// </summary>
public sealed class DiskFaultDispatchTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private StoreOptions Options => new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 };

    /// <summary>One connection's dispatch path without the socket: parse a command, run it, return the reply.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly CommandDispatcher _dispatcher;
        private readonly CommandContext _context;
        private readonly ArrayBufferWriter<byte> _reply = new();
        private readonly RespRequest _request = new();
        private readonly RespLimits _limits = new();

        public Connection(IStore store)
            : this(new ServerState(store, new ServerConfig(), CommandTable.CreateDefault(), TimeProvider.System), 1)
        {
        }

        /// <summary>One of several connections to the same server (blocked clients live in its state).</summary>
        public Connection(ServerState server, long id)
        {
            _context = new CommandContext(server, new ClientState { Id = id, Address = "test", LocalAddress = "test", CreatedAtMs = 0 })
            {
                Reply = _reply,
            };
            Session = _context.Session;
            _dispatcher = new CommandDispatcher(server.Commands);
        }

        public string LastReply => Encoding.ASCII.GetString(_reply.WrittenSpan);

        /// <summary>The deferred reply a blocking command left (the session loop would await it next).</summary>
        public Func<IBufferWriter<byte>, CancellationToken, ValueTask> TakeDeferredReply()
        {
            Func<IBufferWriter<byte>, CancellationToken, ValueTask> deferred = _context.DeferredReply!;
            _context.DeferredReply = null;
            return deferred;
        }

        public IStoreSession Session { get; }

        public string Call(params string[] args)
        {
            StringBuilder frame = new($"*{args.Length}\r\n");
            foreach (string arg in args)
            {
                frame.Append(System.Globalization.CultureInfo.InvariantCulture, $"${arg.Length}\r\n{arg}\r\n");
            }

            byte[] input = Encoding.ASCII.GetBytes(frame.ToString());
            _reply.ResetWrittenCount();
            RespParser.TryParse(input, _request, _limits, out _);
            _dispatcher.Execute(_context, _request.GetArgs(input));
            return Encoding.ASCII.GetString(_reply.WrittenSpan);
        }

        /// <summary>SET as the session loop runs it: the reply counts only once the write is durable.</summary>
        public async Task<string> SetAcknowledgedAsync(string key, string value)
        {
            string reply = Call("SET", key, value);
            await Session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            return reply;
        }

        public void Dispose() => Session.Dispose();
    }

    [Fact]
    public async Task WalDiskFails_SetGetsMisconfGetWorks_DiskWorksAgain_SetWorksWithoutRestartAndNothingAcknowledgedLost()
    {
        (FasterStore store, FaultInjectingDevice device) = await FaultInjectingDevice.OpenStoreAsync(Options, NullLogger.Instance);
        await using (store)
        {
            using Connection connection = new(store);
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal("+OK\r\n", await connection.SetAcknowledgedAsync($"k{i}", $"v{i}"));
            }

            Assert.Equal(":1\r\n", connection.Call("PFADD", "hll", "a", "b"));
            await connection.Session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            string sketch = connection.Call("GET", "hll");

            device.FailWrites = true;
            // The write that meets the failure is applied but never acknowledged: the session loop gets the exception
            // and closes the connection without a reply.
            connection.Call("SET", "unacknowledged", "x");
            await Assert.ThrowsAnyAsync<Exception>(async () => await connection.Session.WaitForDurabilityAsync(TestContext.Current.CancellationToken));
            await WaitUntilAsync(() => store.WriteFailure is not null, "the store reports the failure");

            Assert.StartsWith("-MISCONF Errors writing to the write-ahead log: ", connection.Call("SET", "k1", "changed"), StringComparison.Ordinal);
            Assert.StartsWith("-MISCONF ", connection.Call("INCR", "counter"), StringComparison.Ordinal);
            Assert.Equal("$2\r\nv1\r\n", connection.Call("GET", "k1"));
            Assert.Equal("$-1\r\n", connection.Call("GET", "counter"));

            // PFCOUNT is a read for Redis: it answers, and leaves its count out of the value while writes are refused.
            Assert.StartsWith("-MISCONF ", connection.Call("PFADD", "hll", "c"), StringComparison.Ordinal);
            Assert.Equal(":2\r\n", connection.Call("PFCOUNT", "hll"));
            Assert.Equal(sketch, connection.Call("GET", "hll"));
            string info = connection.Call("INFO", "persistence");
            Assert.Contains("aof_last_write_status:err\r\n", info, StringComparison.Ordinal);
            Assert.Contains("durable_wal_faults:1\r\n", info, StringComparison.Ordinal);

            // The disk works again: within a second or two the store reopens the log, checkpoints and accepts writes.
            device.FailWrites = false;
            await WaitUntilAsync(() => store.WriteFailure is null, "writes resume");
            Assert.Equal("+OK\r\n", await connection.SetAcknowledgedAsync("k1", "changed"));
            Assert.Equal(":1\r\n", connection.Call("INCR", "counter"));
            Assert.Equal(":2\r\n", connection.Call("PFCOUNT", "hll"));
            Assert.NotEqual(sketch, connection.Call("GET", "hll"));
            await connection.Session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            info = connection.Call("INFO", "persistence");
            Assert.Contains("aof_last_write_status:ok\r\n", info, StringComparison.Ordinal);
            Assert.Contains("durable_wal_resumes:1\r\n", info, StringComparison.Ordinal);
        }

        // No checkpoint at dispose (a crash): the checkpoint taken to resume plus the new log hold everything.
        await using FasterStore restarted = await FasterStore.OpenAsync(Options, NullLogger.Instance);
        using Connection again = new(restarted);
        for (int i = 0; i < 100; i++)
        {
            if (i == 1)
            {
                continue;
            }

            Assert.Equal($"${$"v{i}".Length}\r\nv{i}\r\n", again.Call("GET", $"k{i}"));
        }

        Assert.Equal("$7\r\nchanged\r\n", again.Call("GET", "k1"));
        Assert.Equal("$1\r\n1\r\n", again.Call("GET", "counter"));
        Assert.Equal("+OK\r\n", await again.SetAcknowledgedAsync("k1", "again"));
    }

    [Fact]
    public async Task BlockedPop_WokenWhileTheWalFails_GetsMisconfAndTheElementStays()
    {
        (FasterStore store, FaultInjectingDevice device) = await FaultInjectingDevice.OpenStoreAsync(Options, NullLogger.Instance);
        await using (store)
        {
            ServerState server = new(store, new ServerConfig(), CommandTable.CreateDefault(), TimeProvider.System);
            using Connection waiter = new(server, 1);
            using Connection pusher = new(server, 2);
            Assert.Equal("", waiter.Call("BLPOP", "queue", "0"));
            Func<IBufferWriter<byte>, CancellationToken, ValueTask> blocked = waiter.TakeDeferredReply();

            // The push is applied and wakes the waiter, but its commit fails before the waiter runs.
            device.FailWrites = true;
            Assert.Equal(":1\r\n", pusher.Call("RPUSH", "queue", "a"));
            await Assert.ThrowsAnyAsync<Exception>(async () => await pusher.Session.WaitForDurabilityAsync(TestContext.Current.CancellationToken));
            await WaitUntilAsync(() => store.WriteFailure is not null, "the store reports the failure");

            // A blocked command's reply goes where its connection's replies went when it blocked.
            await blocked(new ArrayBufferWriter<byte>(), TestContext.Current.CancellationToken);
            Assert.StartsWith("-MISCONF Errors writing to the write-ahead log: ", waiter.LastReply, StringComparison.Ordinal);
            Assert.Equal(":1\r\n", waiter.Call("LLEN", "queue"));
        }
    }

    /// <summary>
    /// Through a real socket: a SET whose commit fails gets no reply; the connection closes, so the client cannot take a
    /// write a crash of the machine would lose for acknowledged. Until session 26 its "+OK" was sent as the connection
    /// closed (the output was completed without the exception, which flushes it), and the crash tool's power cuts lost
    /// writes acknowledged that way.
    /// </summary>
    [Fact]
    public async Task WalDiskFailsWhileASetWaitsForItsCommit_TheConnectionClosesWithoutItsReply()
    {
        (FasterStore store, FaultInjectingDevice device) = await FaultInjectingDevice.OpenStoreAsync(Options, NullLogger.Instance);
        await using (store)
        {
            ServerState server = new(store, new ServerConfig(), CommandTable.CreateDefault(), TimeProvider.System);
            using Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            using Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!, TestContext.Current.CancellationToken);
            using ClientConnection connection = new(await listener.AcceptAsync(TestContext.Current.CancellationToken), server, NullLogger.Instance, CancellationToken.None);
            Task serving = connection.RunAsync();

            await client.SendAsync("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            Assert.Equal("+OK\r\n", await ReadUntilClosedOrAsync(client, "+OK\r\n".Length));

            device.FailWrites = true;
            await client.SendAsync("*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\nx\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            Assert.Equal(string.Empty, await ReadUntilClosedOrAsync(client, int.MaxValue));
            await serving;
        }
    }

    /// <summary>What <paramref name="client"/> receives until it has <paramref name="bytes"/> or the server closes the connection.</summary>
    private static async Task<string> ReadUntilClosedOrAsync(Socket client, int bytes)
    {
        StringBuilder received = new();
        byte[] buffer = new byte[256];
        while (received.Length < bytes)
        {
            int read = await client.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return received.ToString();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "timed out waiting until " + what);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
