// Engine ports start at SGLang's documented 30000 and take the next free one.
// "Free" means neither reserved by Berth nor bound by anyone else: vLLM 0.9
// binds with SO_REUSEPORT, so a second vLLM on a taken port would start
// silently and share traffic — we must find out before the engine does.

export interface PortProbe {
  (port: number): Promise<boolean>;
}

export async function pickPort(base: number, reserved: ReadonlySet<number>, isFree: PortProbe, limit = 1000): Promise<number> {
  for (let port = base; port < Math.min(base + limit, 65536); port++) {
    if (reserved.has(port)) continue;
    if (await isFree(port)) return port;
  }
  throw Object.assign(new Error(`no free engine port in ${base}-${Math.min(base + limit, 65536) - 1}`), {
    status: 503,
    code: 'no_free_port',
  });
}
