namespace Durable.Server.Tests;

public sealed class StringLcsCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void Lcs_AllOptions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("MSET", p + "a", "ohmytext", p + "b", "mynewtext");
        both.Same("LCS", p + "a", p + "b");
        both.Same("LCS", p + "a", p + "b", "LEN");
        both.Same("LCS", p + "a", p + "b", "IDX");
        both.Same("LCS", p + "a", p + "b", "idx", "WITHMATCHLEN");
        both.Same("LCS", p + "a", p + "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN");
        both.Same("LCS", p + "a", p + "b", "IDX", "MINMATCHLEN", "-4");
        both.Same("LCS", p + "a", p + "b", "IDX", "MINMATCHLEN", "100");
        both.Same("LCS", p + "a", p + "b", "MINMATCHLEN", "2");
        both.Same("LCS", p + "a", p + "b", "LEN", "WITHMATCHLEN");
        both.Same("LCS", p + "a", p + "b", "LEN", "LEN");
        both.Same("LCS", p + "a", p + "b", "IDX", "LEN");
        both.Same("LCS", p + "a", p + "b", "MINMATCHLEN");
        both.Same("LCS", p + "a", p + "b", "MINMATCHLEN", "x");
        both.Same("LCS", p + "a", p + "b", "BOGUS");
        both.Same("LCS", p + "a", p + "missing");
        both.Same("LCS", p + "missing", p + "missing", "IDX");
        both.Same("LCS", p + "a", p + "a", "IDX", "WITHMATCHLEN");
        both.Same("LCS", p + "a", p + "b", p + "a");
    }

    [Theory]
    [InlineData("GAC", "AGCAT")]
    [InlineData("abcabcabc", "cbacbacba")]
    [InlineData("aaaa", "aa")]
    [InlineData("xyz", "abc")]
    [InlineData("a\0b\xffc", "\0\xff")]
    [InlineData("the quick brown fox", "quick brown the fox jumps")]
    public void Lcs_VariousStrings_MatchRedis(string first, string second)
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("MSET", p + "a", first, p + "b", second);
        both.Same("LCS", p + "a", p + "b");
        both.Same("LCS", p + "b", p + "a", "LEN");
        both.Same("LCS", p + "a", p + "b", "IDX", "WITHMATCHLEN");
        both.Same("LCS", p + "b", p + "a", "IDX", "MINMATCHLEN", "2");
    }

    [Fact]
    public void Lcs_OtherTypeOrHugeTable_ErrorsMatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "text");
        StringTests.MakeNonString(servers, both, p + "l");
        both.Same("LCS", p + "a", p + "l");
        both.Same("LCS", p + "l", p + "missing", "BOGUS");
        both.Same("MSET", p + "big1", new string('x', 12000), p + "big2", new string('y', 12000));
        both.Same("LCS", p + "big1", p + "big2");
    }
}
