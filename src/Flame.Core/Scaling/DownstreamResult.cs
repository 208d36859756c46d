namespace Flame.Scaling;

/// <summary>One evaluated checkpoint or model: its validation loss and its accuracy on a task.</summary>
public sealed record DownstreamResult(string Task, double Loss, double Accuracy);
