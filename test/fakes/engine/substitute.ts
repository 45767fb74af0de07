// Makes a replayed fixture line describe this run: our model, host, port, pid and the
// argv-derived lines (vLLM's `non-default args`, SGLang's `server_args=ServerArgs(...)`).
// Everything else (memory figures, timings, kernel names) stays as captured.
import type { EngineConfig } from './config.js';
import { pythonValues } from './config.js';
import { pyRepr } from './pyrepr.js';

/** SGLang's from_cli_args maps these argparse dests to differently named ServerArgs fields. */
const SERVER_ARGS_FIELD: Record<string, string> = {
  tensor_parallel_size: 'tp_size',
  data_parallel_size: 'dp_size',
  expert_parallel_size: 'ep_size',
  pipeline_parallel_size: 'pp_size',
};

/** A Python literal in a repr: a quoted string, a bracketed list/dict, or a bare token. */
const PY_VALUE = String.raw`(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\{[^}]*\}|\[[^\]]*\]|[^,)]+)`;

export function lineEditor(cfg: EngineConfig, fixtureModel: string | undefined): (line: string) => string {
  const values = pythonValues(cfg);
  const hostPort = `${cfg.shownHost}:${cfg.port}`;
  const served = cfg.servedNames[0] as string;
  const swapModel = (l: string) => (fixtureModel && fixtureModel !== cfg.model ? l.replaceAll(fixtureModel, cfg.model) : l);
  return (line) => {
    let l = swapModel(line)
      .replace(/(server process \[)\d+\]/, `$1${process.pid}]`)
      .replace(/(Starting vLLM API server on https?:\/\/)[^\s/]+/, `$1${hostPort}`)
      .replace(/(Uvicorn running on https?:\/\/)[^\s/]+/, `$1${hostPort}`)
      .replace(/(attempting to bind on address )\('[^']*', \d+\)/, `$1('${cfg.shownHost}', ${cfg.port})`);
    if (cfg.engine === 'vllm') {
      l = l
        .replace(/(non-default args: ).*$/, `$1${pyRepr(Object.fromEntries(values))}`)
        .replace(/(served_model_name=)[^,]+/, `$1${served}`)
        .replace(/(tensor_parallel_size=)\d+/, `$1${String(cfg.values.get('tensor_parallel_size') ?? 1)}`);
    } else if (l.includes('server_args=ServerArgs(')) {
      for (const [dest, v] of values) {
        const field = SERVER_ARGS_FIELD[dest] ?? dest;
        l = l.replace(new RegExp(`([(, ]${field}=)${PY_VALUE}`), (_, k: string) => `${k}${pyRepr(v)}`);
      }
    }
    return l;
  };
}
