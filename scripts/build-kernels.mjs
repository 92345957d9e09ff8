// Compiles the AssemblyScript kernels (src/tfjs/wasm/simd/kernels.ts) to
// dist/tfjs/wasm/simd/kernels.wasm. The module runs on tfjs-backend-wasm's memory, so it must
// import that memory and carry no data of its own (a data segment would be written over the
// backend's heap when the module starts): checked here on the binary.
import fs from 'node:fs';
import path from 'node:path';
import asc from 'assemblyscript/asc';

const ROOT = path.resolve(import.meta.dirname, '..');
const source = path.join(ROOT, 'src/tfjs/wasm/simd/kernels.ts');
const output = path.join(ROOT, 'dist/tfjs/wasm/simd/kernels.wasm');
fs.mkdirSync(path.dirname(output), { recursive: true });

const { error, stderr } = await asc.main([
  source,
  '--outFile',
  output,
  '--optimizeLevel',
  '3',
  '--noAssert',
  '--runtime',
  'stub',
  '--use',
  'abort=',
  '--importMemory',
  '--noExportMemory',
  '--enable',
  'simd',
]);
if (error) {
  console.error(stderr.toString());
  process.exit(1);
}

const module = new WebAssembly.Module(fs.readFileSync(output));
const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name} (${i.kind})`);
if (imports.join() !== 'env.memory (memory)')
  throw new Error(`${output} must import only env.memory, imports ${imports.join(', ')}`);
const own = ownSections(fs.readFileSync(output));
if (own.length > 0)
  throw new Error(
    `${output} has ${own.join(', ')}: it would write over the wasm backend's memory (allocate nothing in kernels.ts)`,
  );
console.log(`kernels built in ${path.relative(ROOT, output)} (${fs.statSync(output).size} bytes)`);

/** The sections of the binary that would keep state in memory: globals (6), a start function (8), data (11) with segments. */
function ownSections(bytes) {
  const names = { 6: 'globals', 8: 'a start function', 11: 'data segments' };
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at.i++];
      value |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return value >>> 0;
      shift += 7;
    }
  };
  const found = [];
  const at = { i: 8 };
  while (at.i < bytes.length) {
    const id = bytes[at.i++];
    const size = leb(at);
    const end = at.i + size;
    if (id === 8 || ((id === 6 || id === 11) && leb({ i: at.i }) > 0)) found.push(names[id]);
    at.i = end;
  }
  return found;
}
