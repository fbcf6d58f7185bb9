using KmsCluster.Fuzz;
using KmsCluster.Fuzz.Targets;
using SharpFuzz;

// fuzz/run.sh drives this program; docs/fuzzing.md explains the commands.
//   run TARGET            under afl-fuzz: SharpFuzz's fork server feeds inputs (alone: one input from stdin)
//   replay TARGET FILE... each file once, uninstrumented is fine: prints the exception of a crashing input
//   seeds REPO OUT        writes the seed corpus (OUT/TARGET/NAME) from the component's writers and repo files
IFuzzTarget[] targets =
[
    new FrameReaderTarget(), new RequestDecoderTarget(), new HostKeyTarget(), new CatalogTarget(), new SerializerTarget(),
];

IFuzzTarget Find(string name) => targets.FirstOrDefault(t => t.Name == name)
    ?? throw new ArgumentException($"unknown target \"{name}\" (targets: {string.Join(", ", targets.Select(t => t.Name))})");

switch (args)
{
    case ["run", var name]:
    {
        var target = Find(name);
        Fuzzer.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target.Run(copy.GetBuffer().AsSpan(0, (int)copy.Length));
        });
        return 0;
    }
    case ["replay", var name, .. var files] when files.Length > 0:
    {
        var target = Find(name);
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                target.Run(File.ReadAllBytes(file));
                Console.WriteLine($"ok    {file}");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"CRASH {file}\n{e}");
            }
        }
        return failed == 0 ? 0 : 1;
    }
    case ["seeds", var repo, var output]:
    {
        foreach (var target in targets)
        {
            var folder = Path.Combine(output, target.Name);
            Directory.CreateDirectory(folder);
            foreach (var (seedName, bytes) in target.Seeds(repo))
            {
                target.Run(bytes); // a seed that breaks the contract is a finding before any fuzzing
                File.WriteAllBytes(Path.Combine(folder, seedName), bytes);
            }
            Console.WriteLine($"{target.Name}: {Directory.GetFiles(folder).Length} seeds in {folder}");
        }
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: KmsCluster.Fuzz run TARGET | replay TARGET FILE... | seeds REPO OUT");
        Console.Error.WriteLine($"targets: {string.Join(", ", targets.Select(t => t.Name))}");
        return 2;
}
