// A process of a fake container that holds GPU memory and lets go of it only
// `lingerMs` after it is told to stop, as a CUDA process can take seconds to
// leave the driver. It records itself where the fake nvidia-smi lists GPU
// processes (FAKE_GPU_APPS_DIR, see ../nvidia-smi/gpu-apps.ts) and removes
// the record as it exits. Usage: node gpu-holder.mjs <dir> <cudaVisibleDevices> <lingerMs> <usedMiB>
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, devices, lingerMs, usedMiB] = process.argv.slice(2);
const file = join(dir, `${process.pid}.json`);
writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, name: 'VLLM::Worker', cudaVisibleDevices: devices, usedMiB: Number(usedMiB) }));
renameSync(`${file}.tmp`, file);
process.on('exit', () => rmSync(file, { force: true }));
const stop = () => setTimeout(() => process.exit(0), Number(lingerMs));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive a test run by much.
setTimeout(() => process.exit(0), 10 * 60_000).unref();
setInterval(() => undefined, 1 << 30);
