import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { doctorEnv, envName } from "../../src/doctor";
import { buildWireSettings } from "../../src/settings";

const repo = path.resolve(__dirname, "../../../../..");

test("settings become the doctor's GHOSTLS_* variables", () => {
  assert.equal(envName("backend.modelPath"), "GHOSTLS_BACKEND_MODEL_PATH");
  assert.equal(envName("completion.targetLatencyMs"), "GHOSTLS_COMPLETION_TARGET_LATENCY_MS");
  const wire = { backend: { kind: "openai", url: ["http://a:1", "http://b:2"] }, actions: { model: "big" }, streaming: false };
  const env = doctorEnv(wire, { PATH: "/bin", GHOSTLS_MODEL: "from-env", GHOSTLS_BACKEND: "ollama", GHOSTLS_MAX_TOKENS: "9" });
  assert.equal(env.PATH, "/bin");
  assert.equal(env.GHOSTLS_BACKEND_KIND, "openai");
  assert.equal(env.GHOSTLS_BACKEND_URL, "http://a:1,http://b:2");
  assert.equal(env.GHOSTLS_ACTIONS_MODEL, "big");
  assert.equal(env.GHOSTLS_STREAMING, "false");
  assert.equal(env.GHOSTLS_BACKEND, undefined, "a short name would override the setting");
  assert.equal(env.GHOSTLS_MODEL, "from-env", "a key the user did not set keeps the environment's value");
  assert.equal(env.GHOSTLS_MAX_TOKENS, "9");
});

test("the real doctor checks the configured model, not the default", (t) => {
  const python = path.join(repo, ".venv", "bin", "python");
  if (!fs.existsSync(python)) return t.skip("no .venv (run scripts/setup.sh)");
  const set: Record<string, unknown> = { "backend.kind": "embedded", "backend.modelPath": "/nonexistent/ghostls-test.gguf", "backend.model": "mine-1b" };
  const env = doctorEnv(buildWireSettings((key) => set[key]), { ...process.env, GHOSTLS_MODEL: "wrong", GHOSTLS_MODEL_PATH: "/wrong.gguf" });
  const out = spawnSync(python, ["-m", "lsp_server", "doctor"], { cwd: repo, env, encoding: "utf8", timeout: 60_000 });
  assert.match(out.stdout, /embedded \(model 'mine-1b'\)/, out.stdout + out.stderr);
  assert.match(out.stdout, /\/nonexistent\/ghostls-test\.gguf does not exist/, out.stdout);
  assert.equal(out.status, 1);
});
