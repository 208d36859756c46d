namespace Flame.Checkpointing;

/// <summary>What a checkpoint needs of the optimizer it saves and restores (the trainer's AdamW, on one rank or many).</summary>
public interface IOptimizerState
{
    /// <summary>Every rank calls this; <paramref name="path"/> is the file on the rank that writes it and null elsewhere.</summary>
    void Save(string? path);
    /// <summary>Every rank reads the file and keeps its share.</summary>
    void Load(string path);
    /// <summary>Zero moments from the weights as they are now (the checkpoint had no optimizer state).</summary>
    void StartFresh();
}
