import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkArgv } from '../../daemon/engines/argparse.js';
import { defaultBackendVersion, listEngines, resolveRecipe } from '../../daemon/engines/catalogue.js';
import { engineParser } from '../../daemon/engines/engine-parser.js';
import { PlanError } from '../../daemon/engines/errors.js';
import { buildPlan } from '../../daemon/engines/plan.js';
import { ENGINE_RESOURCES_DIR, loadSpec } from '../../daemon/engines/spec.js';
import { deploymentInputSchema } from '../../daemon/contract/deployment.js';

describe('resources/engines', () => {
  const specFiles = readdirSync(ENGINE_RESOURCES_DIR).filter((f) => f !== 'catalogue.json' && f.endsWith('.json'));

  it('holds the two engine specs', () => {
    assert.deepEqual(specFiles.sort(), ['sglang-0.4.6.json', 'vllm-0.9.0.1.json']);
  });

  it('every spec loads against the schema', () => {
    for (const f of specFiles) assert.ok(loadSpec(f).flags.length > 100, f);
  });
});

describe('resolveRecipe', () => {
  it('finds an exact release with no warning', () => {
    const r = resolveRecipe('vllm', '0.9.0.1');
    assert.equal(r.recipeVersion, '0.9.0.1');
    assert.equal(r.recipe.module, 'vllm.entrypoints.openai.api_server');
    assert.equal(r.spec.engine, 'vllm');
    assert.deepEqual(r.warnings, []);
  });

  it('treats every SGLang 0.4.6.postN the spec describes as known', () => {
    for (const v of ['0.4.6', '0.4.6.post1', '0.4.6.post3', '0.4.6.post5']) {
      const r = resolveRecipe('sglang', v);
      assert.equal(r.recipeVersion, v);
      assert.deepEqual(r.warnings, []);
    }
  });

  it('uses the nearest lower known release for an unknown one, with a warning', () => {
    const cases: [Parameters<typeof resolveRecipe>, string][] = [
      [['vllm', '0.9.2'], '0.9.0.1'],
      [['vllm', '0.9.0.1.post1'], '0.9.0.1'],
      [['sglang', '0.4.7'], '0.4.6.post5'],
      [['sglang', '0.4.6.post9'], '0.4.6.post5'],
      [['sglang', '0.4.10'], '0.4.6.post5'],
    ];
    for (const [[backend, version], used] of cases) {
      const r = resolveRecipe(backend, version);
      assert.equal(r.recipeVersion, used);
      assert.deepEqual(r.warnings, [`${backend} ${version} has no recipe; using ${used}`]);
    }
  });

  it('refuses a version older than every known one', () => {
    for (const [backend, version] of [['vllm', '0.9.0'], ['vllm', '0.8.5'], ['sglang', '0.4.6rc1'], ['sglang', '0.4.5.post3']] as const) {
      assert.throws(
        () => resolveRecipe(backend, version),
        (e: unknown) => e instanceof PlanError && e.code === 'unsupported_version' && e.field === 'backendVersion' && e.status === 400,
      );
    }
  });

  it('refuses what is not a version', () => {
    assert.throws(() => resolveRecipe('vllm', 'latest'), (e: unknown) => e instanceof PlanError && e.code === 'invalid_version');
  });
});

describe('catalogue', () => {
  it('has a default version per backend', () => {
    assert.equal(defaultBackendVersion('vllm'), '0.9.0.1');
    assert.equal(defaultBackendVersion('sglang'), '0.4.6');
  });

  it('lists the engines and their known releases', () => {
    assert.deepEqual(listEngines(), [
      { backend: 'vllm', defaultVersion: '0.9.0.1', versions: ['0.9.0.1'] },
      {
        backend: 'sglang',
        defaultVersion: '0.4.6',
        versions: ['0.4.6', '0.4.6.post1', '0.4.6.post2', '0.4.6.post3', '0.4.6.post4', '0.4.6.post5'],
      },
    ]);
  });

  it('names only flags the recipe spec has, for every release it covers', () => {
    for (const { backend, versions } of listEngines()) {
      for (const version of versions) {
        const { recipe, spec, recipeVersion } = resolveRecipe(backend, version);
        const parser = engineParser(spec, recipe.entrypoint, recipeVersion);
        const named = [
          recipe.model.flag,
          recipe.servedNames.flag,
          recipe.hostFlag,
          recipe.portFlag,
          recipe.tensorParallel.flag,
          ...recipe.defaultFlags.map((f) => f.argv[0]!),
          ...recipe.conditionalFlags.map((f) => f.argv[0]!),
        ];
        for (const flag of named) assert.ok(parser.optionStrings.has(flag), `${backend} ${version}: ${flag}`);
      }
    }
  });

  // Every recipe entry switched on at once: the whole argv Berth writes must parse.
  it("Berth's own flags parse for every recipe and release", () => {
    for (const { backend, versions } of listEngines()) {
      for (const backendVersion of versions) {
        for (const gpus of [[], [0], [0, 1], [0, 1, 2, 3]]) {
          const d = deploymentInputSchema.parse({
            name: 'm',
            modelId: 'org/model',
            backend,
            resource: { workers: 1, gpu: { count: gpus.length } },
          });
          const plan = buildPlan({
            deployment: { ...d, servedName: ['a', 'b'], backendVersion },
            gpus,
            port: 8001,
            interpreter: 'python3',
          });
          const { recipe, spec } = resolveRecipe(backend, backendVersion);
          const r = checkArgv(spec, plan.argv.slice(3), { entrypoint: recipe.entrypoint, version: backendVersion });
          assert.ok(r.ok, `${backend} ${backendVersion} ${gpus.length} GPUs: ${r.ok ? '' : r.error.message}`);
        }
      }
    }
  });
});
