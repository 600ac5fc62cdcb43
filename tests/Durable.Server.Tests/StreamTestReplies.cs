using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>What the stream tests share: waiting for readers to block, and XINFO's one field Durable only estimates.</summary>
internal static partial class StreamTestReplies
{
    /// <summary>XINFO STREAM's radix-tree-nodes counts the inner nodes of Redis's radix tree, which Durable does not build.</summary>
    public static string MaskRadixNodes(string reply) => RadixNodes().Replace(reply, "radix-tree-nodes\r\n:?\r\n");

    /// <summary>Waits until the clients <paramref name="ids"/> are blocked; the server is shared with other tests, so only these count.</summary>
    public static void WaitForBlocked(RespTestClient client, string[] ids)
    {
        for (int i = 0; i < 500; i++)
        {
            if (Regex.Count(client.Call(["CLIENT", "LIST", "ID", .. ids]), " flags=b ") == ids.Length)
            {
                return;
            }

            Thread.Sleep(10);
        }

        Assert.Fail("the readers did not block");
    }

    [GeneratedRegex("radix-tree-nodes\r\n:[0-9]+\r\n")]
    private static partial Regex RadixNodes();
}
