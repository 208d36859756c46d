using System.IO.MemoryMappedFiles;

namespace Flame.Data.Indexed;

/// <summary>A read-only memory map of a whole file with a stable pointer (datasets can exceed 2 GB, beyond spans' reach).</summary>
sealed unsafe class MappedFile : IDisposable
{
    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    public byte* Pointer { get; }
    public long Length { get; }

    MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        _file = file;
        _view = view;
        Length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Pointer = p + view.PointerOffset;
    }

    public static MappedFile Open(string path)
    {
        long length = new FileInfo(path).Length;
        if (length == 0) throw new UserError($"{path}: file is empty");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new MappedFile(file, view, length);
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
