using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Scripting;

/// <summary>
/// The key stripes a script holds. A script declares its keys but may reach others (Redis allows it outside a
/// cluster), so it takes stripes as its commands name their keys, and holds each until it ends: other clients never see
/// it half done. Waiting for a stripe while holding others is safe because the dispatcher gives a script the store's
/// hold-and-wait lock first (one script at a time, as in Redis: <see cref="CommandFlags.LocksItself"/>), and everyone
/// else takes several stripes all at once or not at all. Inside EXEC the transaction already holds every stripe.
/// </summary>
internal sealed class ScriptLocks : IDisposable
{
    private readonly KeyLocks _locks;
    private readonly HashSet<int> _held = [];
    private readonly List<int> _keyIndexes = new(8);
    private bool _all;
    private bool _tookAll;

    /// <param name="locks">The store's stripes.</param>
    /// <param name="holdsAll">Whether every stripe is held already (a script inside EXEC).</param>
    public ScriptLocks(KeyLocks locks, bool holdsAll)
    {
        _locks = locks;
        _all = holdsAll;
    }

    /// <summary>Holds the stripe of <paramref name="key"/> from now until the script ends.</summary>
    public void Take(ReadOnlySpan<byte> key)
    {
        int stripe = KeyLocks.StripeOf(key);
        if (!_all && _held.Add(stripe))
        {
            _locks.EnterExclusive(stripe);
        }
    }

    /// <summary>Holds what the command of <paramref name="definition"/> needs: its keys' stripes, or every stripe.</summary>
    public void Cover(CommandDefinition definition, RespArgs args)
    {
        if (_all)
        {
            return;
        }

        if ((definition.Flags & CommandFlags.LocksAll) != 0 || definition.LocksAllWhen?.Invoke(args) == true)
        {
            for (int stripe = 0; stripe < KeyLocks.StripeCount; stripe++)
            {
                if (!_held.Contains(stripe))
                {
                    _locks.EnterExclusive(stripe);
                }
            }

            _all = true;
            _tookAll = true;
            return;
        }

        _keyIndexes.Clear();
        definition.GetKeyIndexes(args, _keyIndexes);
        foreach (int index in _keyIndexes)
        {
            Take(args[index]);
        }
    }

    public void Dispose()
    {
        if (_tookAll)
        {
            for (int stripe = 0; stripe < KeyLocks.StripeCount; stripe++)
            {
                _locks.ExitExclusive(stripe);
            }
        }
        else
        {
            foreach (int stripe in _held)
            {
                _locks.ExitExclusive(stripe);
            }
        }
    }
}
