// `gpuType` accepts the k8s resource form (`nvidia.com/gpu-l40s`, as the serving
// platforms write it) or a plain fragment (`L40S`, `H100`). Matching ignores case
// and punctuation, and every `-`-separated token must appear in the GPU's name:
// `nvidia.com/gpu-a100-80gb` matches "NVIDIA A100-SXM4-80GB".
const K8S_PREFIX = /^nvidia\.com\/(gpu-?)?/i;

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export function gpuTypeTokens(gpuType: string): string[] {
  return gpuType
    .replace(K8S_PREFIX, '')
    .split(/[-_\s]+/)
    .map(squash)
    .filter(Boolean);
}

export function matchesGpuType(gpuName: string, gpuType: string | undefined): boolean {
  if (!gpuType) return true;
  const name = squash(gpuName);
  const tokens = gpuTypeTokens(gpuType);
  return tokens.length > 0 && tokens.every((t) => name.includes(t));
}
