using System.Globalization;
using System.Text;
using Durable.Storage;

namespace Durable.Server.Tests;

/// <summary>
/// Helpers for the string command tests: a key of another type on both servers, and a key's remaining time to live
/// on Durable (which has no PTTL command yet) read straight from its store.
/// </summary>
internal static class StringTests
{
    /// <summary>Makes <paramref name="key"/> a list on redis-server and a non-string record on Durable.</summary>
    public static void MakeNonString(ReferenceServers servers, ReplyComparison both, string key)
    {
        both.Redis.Call("DEL", key);
        Assert.Equal(":1\r\n", both.Redis.Call("RPUSH", key, "item"));
        byte[] bytes = Encoding.Latin1.GetBytes(key);
        WithRecord(servers, bytes, exclusive: true, session => session.Write(0, bytes, (RecordType)2, "item"u8, 0));
    }

    /// <summary>Durable's PTTL for a key of database 0: -2 when missing, -1 without expiry, else milliseconds left.</summary>
    public static long DurablePttl(ReferenceServers servers, string key)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(key);
        long result = 0;
        WithRecord(servers, bytes, exclusive: false, session =>
        {
            result = !session.TryRead(0, bytes, null, out StoredRecord record) ? -2
                : record.ExpiresAtMs == 0 ? -1
                : record.ExpiresAtMs - servers.Durable.State.Time.GetUtcNow().ToUnixTimeMilliseconds();
        });
        return result;
    }

    /// <summary>Asserts both servers agree on the key's TTL: exactly for -2/-1, within a second otherwise.</summary>
    public static void AssertSameTtl(ReferenceServers servers, ReplyComparison both, string key)
    {
        string reply = both.Redis.Call("PTTL", key);
        long redis = long.Parse(reply.AsSpan(1, reply.Length - 3), CultureInfo.InvariantCulture);
        long durable = DurablePttl(servers, key);
        if (redis < 0 || durable < 0)
        {
            Assert.True(redis == durable, $"PTTL {key}: redis {redis}, durable {durable}");
        }
        else
        {
            Assert.True(Math.Abs(redis - durable) <= 1000, $"PTTL {key}: redis {redis}, durable {durable}");
        }
    }

    /// <summary>Polls GET on both servers until the key is gone (or fails after a deadline): for PX 1 style expiry.</summary>
    public static void WaitUntilGone(ReplyComparison both, string key)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (both.Redis.Call("GET", key) != "$-1\r\n" || both.Durable.Call("GET", key) != "$-1\r\n")
        {
            Assert.True(DateTime.UtcNow < deadline, $"{key} did not expire");
            Thread.Yield();
        }
    }

    private static void WithRecord(ReferenceServers servers, byte[] key, bool exclusive, Action<IStoreSession> action)
    {
        IStore store = servers.Durable.State.Store;
        int stripe = KeyLocks.StripeOf(key);
        if (exclusive)
        {
            store.Locks.EnterExclusive(stripe);
        }
        else
        {
            store.Locks.EnterShared(stripe);
        }

        try
        {
            using IStoreSession session = store.OpenSession();
            action(session);
        }
        finally
        {
            if (exclusive)
            {
                store.Locks.ExitExclusive(stripe);
            }
            else
            {
                store.Locks.ExitShared(stripe);
            }
        }
    }
}
