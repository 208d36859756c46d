using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>The group of one process: every collective is the identity, so the trainer reads the same on one process as on many.</summary>
public sealed class LocalCommunicator : ICommunicator
{
    public int Rank => 0;
    public int Size => 1;
    public void AllReduceSum(Tensor tensor) { }
    public Tensor AllToAll(Tensor send, long[] sendRows, long[] receiveRows) => send.alias();
    public Tensor ReduceScatter(Tensor tensor) => tensor.alias();
    public Tensor AllGather(Tensor tensor) => tensor.alias();
    public void Broadcast(Tensor tensor, int root) { }
    public void Barrier() { }
    public ICommunicator Split(int color, int key) => new LocalCommunicator();
    public void Dispose() { }
}
