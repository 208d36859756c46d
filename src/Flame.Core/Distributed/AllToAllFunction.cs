using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// All-to-all as an autograd function: the backward sends each row's gradient back where the row came from
/// (the same exchange with the splits swapped), so expert gradients reach the ranks holding the experts and token
/// gradients the ranks holding the tokens.
/// </summary>
sealed class AllToAllFunction : autograd.SingleTensorFunction<AllToAllFunction>
{
    public override string Name => nameof(AllToAllFunction);

    public static Tensor Exchange(Tensor rows, ICommunicator group, long[] sendRows, long[] receiveRows) =>
        apply(rows, group, sendRows, receiveRows);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var group = (ICommunicator)vars[1];
        var sendRows = (long[])vars[2];
        var receiveRows = (long[])vars[3];
        ctx.save_data("group", group);
        ctx.save_data("send", sendRows);
        ctx.save_data("receive", receiveRows);
        return group.AllToAll((Tensor)vars[0], sendRows, receiveRows);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var group = (ICommunicator)ctx.get_data("group");
        var grad = group.AllToAll(gradOutput, (long[])ctx.get_data("receive"), (long[])ctx.get_data("send"));
        return [grad, null!, null!, null!];
    }
}
