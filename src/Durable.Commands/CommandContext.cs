using System.Buffers;
using Durable.Commands.Server;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands;

/// <summary>
/// Everything a handler may use: the connection's store session and state, the shared server state, and the reply
/// writer. One per connection; not thread-safe. Handlers never flush: the session flushes once per batch.
/// </summary>
public sealed class CommandContext
{
    private IStoreSession? _session;

    public CommandContext(ServerState server, ClientState client)
    {
        Server = server;
        Client = client;
        if (client.AclUser is null)
        {
            // Redis createClient: the default user, logged in if it is on and needs no password; a primary's link is logged
            // in, and may run anything.
            client.AclUser = client.IsReplicationSource ? server.Acl.Superuser : server.Acl.Default;
            client.Authenticated = client.IsReplicationSource || server.Acl.NewConnectionsAuthenticated;
        }
    }

    public ServerState Server { get; }

    /// <summary>Whether the connection must log in before anything but AUTH, HELLO, QUIT and RESET (Redis authRequired).</summary>
    public bool NeedsAuthentication => Acl.AclChecks.NeedsAuth(this);

    public IStore Store => Server.Store;

    /// <summary>The connection's store session, opened at first use (none is opened while the server is loading).</summary>
    public IStoreSession Session => _session ??= Server.Store.OpenSession();

    /// <summary>The session if one was opened, for the connection to wait on and dispose.</summary>
    public IStoreSession? OpenedSession => _session;

    public ClientState Client { get; }

    /// <summary>Where the reply goes: the connection's output pipe (or a test buffer). Set by the session loop.</summary>
    public IBufferWriter<byte> Reply { get; set; } = null!;

    /// <summary>
    /// While the session discards this command's reply (CLIENT REPLY OFF or SKIP), the writer replies would have gone to;
    /// null otherwise. CLIENT REPLY ON uses it to send its OK although replies were off when it started.
    /// </summary>
    public IBufferWriter<byte>? SuppressedReply { get; set; }

    /// <summary>Per-command scratch space, emptied by the dispatcher before each command.</summary>
    public ArrayBufferWriter<byte> Scratch { get; } = new(1024);

    /// <summary>
    /// Where a collection part (a bucket, a list chunk, a tree node) is read on its way into the
    /// <see cref="Collections.PackedItemsBuffer"/> or decoded items that copy it at once, or encoded on its way to the
    /// store; never held past that. One per connection, so that a command does not grow a new buffer for every part.
    /// </summary>
    public ArrayBufferWriter<byte> PartStaging { get; } = new(4096);

    /// <summary>The arrays of the command's edited parts, given back by the dispatcher when the command ends.</summary>
    internal Collections.PartBuffers PartBuffers { get; } = new();

    /// <summary>
    /// Set by a handler whose reply must wait for something asynchronous (SAVE, WAITAOF): the session stops the batch
    /// after this command, awaits the delegate (which writes the reply to the writer it is given), then goes on.
    /// Handlers themselves never block.
    /// </summary>
    public Func<IBufferWriter<byte>, CancellationToken, ValueTask>? DeferredReply { get; set; }

    public int Db => Client.Db;

    /// <summary>
    /// What the current call sends to replicas, collected while the server keeps a replication stream
    /// (<see cref="Server.Propagation"/>); empty otherwise.
    /// </summary>
    internal List<PropagatedCommand> Propagated { get; } = [];

    /// <summary>
    /// Set by a handler whose change replicas must make with other commands than its own (<see cref="PropagateAs"/>):
    /// those commands; null: the command as sent, if it changed anything.
    /// </summary>
    internal List<byte[][]>? Rewritten { get; set; }

    /// <summary>Set by a handler that replicas must run even though it changed nothing (FLUSHALL of empty databases, PUBLISH).</summary>
    internal bool PropagateAlways { get; set; }

    /// <summary>Set by EXEC and scripts: the commands they ran were collected one by one; they are not sent themselves.</summary>
    internal bool PropagatedItsCommands { get; set; }

    /// <summary>
    /// Replicas make this command's change by running <paramref name="args"/> (called once per command it becomes, as
    /// Redis's rewriteClientCommandVector and alsoPropagate); only when a replication stream is kept.
    /// </summary>
    internal void PropagateAs(params byte[][] args)
    {
        if (Server.ReplicationFeed.Active)
        {
            (Rewritten ??= []).Add(args);
        }
    }

    /// <summary>Replicas make this command's change with no command at all (Redis's preventCommandPropagation).</summary>
    internal void PropagateNothing()
    {
        if (Server.ReplicationFeed.Active)
        {
            Rewritten ??= [];
        }
    }

    /// <summary>
    /// The flags a call of <paramref name="definition"/> with <paramref name="args"/> runs with: its own, those its
    /// arguments decide (<see cref="CommandDefinition.FlagsFor"/>), and for EXEC those of the commands it would run, as
    /// Redis treats an EXEC of writes as a write (CLIENT PAUSE WRITE holds it back).
    /// </summary>
    public CommandFlags EffectiveFlags(CommandDefinition definition, Durable.Protocol.RespArgs args) =>
        definition.Handler == Transactions.TransactionCommands.ExecHandler ? definition.Flags | Client.Transaction.QueuedFlags
        : definition.FlagsFor?.Invoke(Server, args) ?? definition.Flags;

    /// <summary>Drops the connection's transaction and watched keys (RESET, and the connection when it closes).</summary>
    public void EndTransaction() => Transactions.TransactionCommands.End(this, Client.Transaction);

    public RespVersion Protocol => Client.Protocol;

    public long NowMs => Server.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Publishes a keyspace notification for <paramref name="key"/> of the client's database, if its class is on.</summary>
    public void Notify(PubSub.KeyspaceEventClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key) =>
        PubSub.KeyspaceEvents.Notify(Server, type, eventName, key, Db);

    /// <summary>
    /// Redis's events for a write to a collection: <paramref name="eventName"/>, then "del" when the write left
    /// <paramref name="remaining"/> members, none, and so deleted the key.
    /// </summary>
    public void NotifyCollectionWrite(PubSub.KeyspaceEventClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, long remaining)
    {
        Notify(type, eventName, key);
        if (remaining == 0)
        {
            Notify(PubSub.KeyspaceEventClass.Generic, "del"u8, key);
        }
    }

    /// <summary>As <see cref="Notify(PubSub.KeyspaceEventClass, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, for a key of database <paramref name="db"/> (COPY ... DB, MOVE).</summary>
    public void Notify(PubSub.KeyspaceEventClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, int db) =>
        PubSub.KeyspaceEvents.Notify(Server, type, eventName, key, db);

    public void WriteOk() => Reply.Write(RespConstants.Ok);

    /// <summary>Set when the current command replied with an error (failed_calls, errorstats); reset by the dispatcher.</summary>
    public bool ErrorWritten { get; set; }

    public void WriteError(ReadOnlySpan<byte> text)
    {
        ErrorWritten = true;
        Server.Stats.RecordError(text);
        RespWriter.WriteError(Reply, text);
    }

    /// <summary>
    /// An error built as a string. Arguments quoted in it were decoded with Latin1 (one char per byte), so it is
    /// encoded back the same way: an argument's bytes reach the client as they were sent, as Redis echoes them.
    /// </summary>
    public void WriteError(string text) => WriteError(System.Text.Encoding.Latin1.GetBytes(text));

    /// <summary>Redis addReplyErrorFormat: an error whose quoted arguments may hold CR or LF, which become spaces.</summary>
    public void WriteErrorOneLine(string text) => WriteError(text.Replace('\r', ' ').Replace('\n', ' '));

    public void WriteInteger(long value) => RespWriter.WriteInteger(Reply, value);

    public void WriteBulk(ReadOnlySpan<byte> value) => RespWriter.WriteBulkString(Reply, value);

    public void WriteBulk(string value) => RespWriter.WriteBulkString(Reply, System.Text.Encoding.UTF8.GetBytes(value));

    public void WriteSimple(ReadOnlySpan<byte> value) => RespWriter.WriteSimpleString(Reply, value);

    public void WriteNull() => RespWriter.WriteNull(Reply, Protocol);

    public void WriteNullArray() => RespWriter.WriteNullArray(Reply, Protocol);

    public void WriteArrayHeader(long count) => RespWriter.WriteArrayHeader(Reply, count);

    public void WriteMapHeader(long pairs) => RespWriter.WriteMapHeader(Reply, pairs, Protocol);

    public void WriteSetHeader(long count) => RespWriter.WriteSetHeader(Reply, count, Protocol);

    public void WriteSyntaxError() => WriteError(RespErrors.Syntax);

    public void WriteNotInteger() => WriteError(RespErrors.NotInteger);

    public void WriteWrongType() => WriteError(RespErrors.WrongType);

    /// <summary>
    /// Reads a timeout in milliseconds as Redis does for CLIENT PAUSE, WAIT and WAITAOF: an integer, not negative; otherwise
    /// writes Redis's error and returns false.
    /// </summary>
    public bool TryReadTimeoutMilliseconds(ReadOnlySpan<byte> text, out long timeout)
    {
        if (!RedisNumber.TryParseInt64(text, out timeout))
        {
            WriteError("ERR timeout is not an integer or out of range"u8);
            return false;
        }

        if (timeout < 0)
        {
            WriteError("ERR timeout is negative"u8);
            return false;
        }

        return true;
    }

    /// <summary>"ERR wrong number of arguments for 'x' command", for handlers that check argument shape beyond arity.</summary>
    public void WriteArityError(string fullName) => WriteError($"ERR wrong number of arguments for '{fullName}' command");

    /// <summary>Redis addReplySubcommandSyntaxError: a subcommand given more arguments than it takes.</summary>
    public void WriteSubcommandSyntaxError(Durable.Protocol.RespArgs args)
    {
        ReadOnlySpan<byte> subcommand = args[1];
        WriteError(
            $"ERR unknown subcommand or wrong number of arguments for '{System.Text.Encoding.Latin1.GetString(subcommand[..Math.Min(subcommand.Length, 128)])}'. " +
            $"Try {System.Text.Encoding.Latin1.GetString(args[0]).ToUpperInvariant()} HELP.");
    }
}
