// Compiles the AssemblyScript kernels (src/tfjs/wasm/simd/kernels.ts) to
// dist/tfjs/wasm/simd/kernels.wasm and kernels-relaxed.wasm. The module runs on tfjs-backend-wasm's memory, so it must
// import that memory and carry no data of its own (a data segment would be written over the
// backend's heap when the module starts): checked here on the binary.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import asc from 'assemblyscript/asc';

// Node 20's V8 validates relaxed SIMD behind this flag (later versions have it on).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const ROOT = path.resolve(import.meta.dirname, '..');
const source = path.join(ROOT, 'src/tfjs/wasm/simd/kernels.ts');
// Two builds of one source: with WebAssembly SIMD, and with relaxed SIMD too (fused multiply-add in
// the matrix products), which the loader takes where the engine validates it.
const BUILDS = [
  { file: 'kernels.wasm', features: ['simd'] },
  { file: 'kernels-relaxed.wasm', features: ['simd', 'relaxed-simd'] },
];
for (const { file, features } of BUILDS) {
  const output = path.join(ROOT, 'dist/tfjs/wasm/simd', file);
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
    ...features.flatMap((feature) => ['--enable', feature]),
  ]);
  if (error) {
    console.error(stderr.toString());
    process.exit(1);
  }
  const bytes = fs.readFileSync(output);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  const names = imports.map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (names.join() !== 'env.memory (memory)')
    throw new Error(`${output} must import only env.memory, imports ${names.join(', ')}`);
  const own = ownSections(bytes);
  if (own.length > 0)
    throw new Error(
      `${output} has ${own.join(', ')}: it would write over the wasm backend's memory (allocate nothing in kernels.ts)`,
    );
  console.log(`kernels built in ${path.relative(ROOT, output)} (${bytes.length} bytes)`);
}

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
