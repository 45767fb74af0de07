// `berth` entry point: dispatch to a command, print a one-line reason and exit
// non-zero on failure (2 for usage errors). Each command's module is imported
// only when that command runs: `--help` loads nothing else, client commands
// load a small HTTP client, and only `serve` loads the server (express, pino,
// node-pty, ...), which alone would cost most of a quick command's run time.
import type { Out } from './args.js';
import { CliError } from './errors.js';

const USAGE = `berth: local vLLM / SGLang serving with one OpenAI endpoint

usage: berth <command> [flags]

  serve [--host H] [--port P]          run the daemon (default 127.0.0.1:7788)
  gpus [--json]                        NVIDIA GPUs, memory and processes
  plan -f spec.json [--json]           print the launch plan without launching (no daemon needed)
  deploy -f spec.json | NAME MODEL     create and start a deployment
         [--backend vllm|sglang] [--backend-version V] [--gpus N]
         [--served-name N]... [--arg ENGINE_ARG]... [--no-start] [--json]
  ps [--json]                          deployments and their replicas
  start|stop|restart NAME [--json]     change a deployment's state
  rm NAME                              stop and delete a deployment
  logs NAME [-f] [-n N] [--replica R]  engine output
  lora add NAME ADAPTER PATH [--json]  add a LoRA adapter (vLLM loads it now; SGLang restarts)
  lora ls NAME [--json]                a deployment's adapters and the replicas serving them
  lora rm NAME ADAPTER [--json]        remove an adapter
  doctor [--json]                      check nvidia-smi, engines and docker
  apply -f FILE [--dry-run] [--json]   deploy an llmaz, KServe or Knative manifest (-f - reads stdin)
  export NAME --format F               the deployment as an llmaz, kserve or knative manifest

environment: BERTH_HOST, BERTH_PORT, BERTH_API_KEY, BERTH_HOME, BERTH_NVIDIA_SMI,
             BERTH_VLLM_PYTHON, BERTH_SGLANG_PYTHON, BERTH_DOCKER`;

type Command = (args: string[], io: Out) => Promise<number>;

const client = () => import('./commands.js');

const COMMANDS: Record<string, Command> = {
  serve: async (a) => (await import('./serve.js')).serve(a),
  plan: async (a, io) => (await import('./plan.js')).plan(a, io),
  gpus: async (a, io) => (await client()).gpus(a, io),
  deploy: async (a, io) => (await client()).deploy(a, io),
  ps: async (a, io) => (await client()).ps(a, io),
  start: async (a, io) => (await client()).lifecycle('start')(a, io),
  stop: async (a, io) => (await client()).lifecycle('stop')(a, io),
  restart: async (a, io) => (await client()).lifecycle('restart')(a, io),
  rm: async (a, io) => (await client()).rm(a, io),
  logs: async (a, io) => (await client()).logs(a, io),
  lora: async (a, io) => (await client()).lora(a, io),
  doctor: async (a, io) => (await client()).doctor(a, io),
  apply: async (a, io) => (await client()).apply(a, io),
  export: async (a, io) => (await client()).exportDeployment(a, io),
};

export async function main(argv: string[]): Promise<number> {
  const io: Out = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { BERTH_VERSION } = await import('../version.js');
    io.out(BERTH_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`berth: unknown command "${name}" (see berth --help)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`berth ${name}: ${err.message}`);
      return err.exitCode;
    }
    io.err(`berth ${name}: ${(err as Error).message}`);
    return 1;
  }
}
