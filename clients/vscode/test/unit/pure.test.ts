import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { nodeProbes, resolveServerCommand } from "../../src/serverCommand";
import { buildWireSettings, serverSettingKeys } from "../../src/settings";
import { isEnabledFor, renderStatus, restartDelayMs } from "../../src/status";
import { replacedChars, StreamCache } from "../../src/streamCache";

const repo = path.resolve(__dirname, "../../../../..");

test("only explicitly set keys go on the wire, nested, with streaming on", () => {
  const set: Record<string, unknown> = { "backend.kind": "openai", "completion.maxTokens": 64, "backend.modelPath": null };
  const wire = buildWireSettings((key) => set[key]);
  assert.deepEqual(wire, { backend: { kind: "openai" }, completion: { maxTokens: 64 }, streaming: true });
});

test("the user may turn streaming off", () => {
  assert.equal(buildWireSettings((key) => (key === "streaming" ? false : undefined)).streaming, false);
});

test("the active profile overrides backend keys and keeps the others", () => {
  const profiles = { fleet: { kind: "ollama", url: "http://10.0.0.2:11434", model: "qwen2.5-coder:7b" } };
  const set: Record<string, unknown> = { "backend.kind": "openai", "backend.apiKeyEnv": "KEY" };
  const wire = buildWireSettings((key) => set[key], profiles, "fleet");
  assert.deepEqual(wire.backend, { kind: "ollama", apiKeyEnv: "KEY", url: "http://10.0.0.2:11434", model: "qwen2.5-coder:7b" });
  assert.deepEqual(buildWireSettings(() => undefined, profiles, "missing").backend, undefined);
});

test("contributed settings mirror the server's settings tree", (t) => {
  const python = path.join(repo, ".venv", "bin", "python");
  if (!fs.existsSync(python)) return t.skip("no .venv (run scripts/setup.sh)");
  const script = `
import dataclasses, json, typing
from lsp_server.settings import Settings, to_camel
def walk(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + to_camel(f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            yield from walk(hints[f.name], key + ".")
        else:
            yield key
print(json.dumps(sorted(walk(Settings))))`;
  const out = spawnSync(python, ["-c", script], { cwd: repo, encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(serverSettingKeys().sort(), JSON.parse(out.stdout));
});

test("stream cache: updates replace the text; stale ones are ignored", () => {
  const cache = new StreamCache();
  const at = { line: 3, character: 4 };
  cache.remember({ uri: "u", version: 7, position: at, itemId: "1:0", text: "return a", done: false });
  assert.equal(cache.applyUpdate({ uri: "u", version: 7, position: at, itemId: "0:9", text: "x", done: false }), undefined);
  assert.equal(cache.applyUpdate({ uri: "u", version: 6, position: at, itemId: "1:0", text: "x", done: false }), undefined);
  assert.equal(cache.applyUpdate({ uri: "u", version: 7, position: at, itemId: "1:0", text: "return a + b 🎉", done: true })?.text, "return a + b 🎉");
  assert.equal(cache.applyUpdate({ uri: "u", version: 7, position: at, itemId: "1:0", text: "return a + b 🎉", done: true }), undefined);
});

test("stream cache: a done update's range says how much of the line it replaces", () => {
  const cache = new StreamCache();
  const at = { line: 2, character: 10 };
  cache.remember({ uri: "u", version: 3, position: at, itemId: "4:0", text: "max(a", done: false });
  const range = { start: at, end: { line: 2, character: 12 } }; // "))" after the cursor
  const entry = cache.applyUpdate({ uri: "u", version: 3, position: at, itemId: "4:0", text: "max(a, b))", done: true, range });
  assert.equal(entry?.replace, 2);
  assert.equal(replacedChars(undefined), 0);
  assert.equal(replacedChars({ start: at, end: { line: 3, character: 0 } }), 0);
});

test("stream cache: typing through matching text keeps the rest; anything else misses", () => {
  const cache = new StreamCache();
  cache.remember({ uri: "u", version: 1, position: { line: 0, character: 2 }, itemId: "1", text: "名前 = 'x'\n", done: false });
  assert.equal(cache.lookup("u", { line: 0, character: 2 }, "")?.remaining, "名前 = 'x'\n");
  assert.equal(cache.lookup("u", { line: 0, character: 4 }, "名前")?.remaining, " = 'x'\n");
  assert.equal(cache.lookup("u", { line: 0, character: 3 }, "X"), undefined);
  assert.equal(cache.lookup("u", { line: 0, character: 1 }, ""), undefined);
  assert.equal(cache.lookup("u", { line: 1, character: 0 }, "名前 = 'x'\n"), undefined);
  assert.equal(cache.lookup("other", { line: 0, character: 2 }, ""), undefined);
});

test("status text shows model, latency, progress and problems", () => {
  const gate = { enabledHere: true, snoozedMinutes: 0 };
  const idle = renderStatus({ state: "idle", model: "qwen", backend: "openai @ x", latencyMs: 83.4 }, { kind: "running" }, gate);
  assert.equal(idle.text, "$(sparkle) qwen · 83 ms");
  assert.match(renderStatus({ state: "downloading", model: "qwen", detail: "42%" }, { kind: "running" }, gate).text, /42%/);
  const error = renderStatus({ state: "error", model: "qwen", detail: "refused — is it running?" }, { kind: "running" }, gate);
  assert.ok(error.error && error.tooltip.includes("refused"));
  assert.match(renderStatus(undefined, { kind: "restarting", inSeconds: 2, reason: "exit" }, gate).text, /restarting in 2s/);
  assert.match(renderStatus({ state: "idle" }, { kind: "running" }, { enabledHere: true, snoozedMinutes: 14 }).text, /snoozed 14 min/);
  assert.match(renderStatus({ state: "idle", model: "m" }, { kind: "running" }, { enabledHere: false, snoozedMinutes: 0 }).text, /circle-slash/);
});

test("enablement per language falls back to the global switch", () => {
  assert.equal(isEnabledFor(undefined, "python"), true);
  assert.equal(isEnabledFor({ "*": false }, "python"), false);
  assert.equal(isEnabledFor({ "*": false, python: true }, "python"), true);
  assert.equal(isEnabledFor({ "*": true, markdown: false }, "markdown"), false);
});

test("restart back-off doubles up to 30 s", () => {
  assert.deepEqual([1, 2, 3, 6, 10].map(restartDelayMs), [1000, 2000, 4000, 30000, 30000]);
});

test("server command: setting, then PATH, then private venv, then python -m", async () => {
  const probes = (exec: string[], onPath: Record<string, string>, modules: string[]) => ({
    isExecutable: (file: string) => exec.includes(file),
    which: (name: string) => onPath[name],
    hasModule: async (python: string) => modules.includes(python),
  });
  const none = probes([], {}, []);
  assert.deepEqual(await resolveServerCommand("/opt/g", null, "/s", none), { command: "/opt/g", args: ["serve"], source: "setting" });
  assert.equal((await resolveServerCommand(null, null, "/s", probes([], { ghostls: "/bin/ghostls" }, [])))?.source, "path");
  assert.equal((await resolveServerCommand(null, null, "/s", probes(["/s/venv/bin/ghostls"], {}, [])))?.source, "private");
  const py = await resolveServerCommand(null, "/v/bin/python", "/s", probes([], {}, ["/v/bin/python"]));
  assert.deepEqual(py, { command: "/v/bin/python", args: ["-m", "lsp_server", "serve"], source: "python" });
  assert.equal(await resolveServerCommand(null, null, "/s", probes([], { python3: "/usr/bin/python3" }, [])), undefined);
});

test("the Python probe does not block the extension host", async () => {
  // A "python" that exits only once a file exists, which this test creates after the
  // probe returns: a synchronous probe would wait out its 10 s timeout and say no.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ghostls-probe-"));
  const flag = path.join(dir, "go");
  const python = path.join(dir, "python");
  fs.writeFileSync(python, `#!/bin/sh\nwhile [ ! -e "${flag}" ]; do sleep 0.02; done\n`, { mode: 0o755 });
  const answer = nodeProbes.hasModule(python, "lsp_server");
  fs.writeFileSync(flag, "");
  assert.equal(await answer, true);
  assert.equal(await nodeProbes.hasModule(path.join(dir, "missing"), "lsp_server"), false);
});

test("one licence, Apache-2.0, where vsce looks for it (no LICENSE prompt in npm run package)", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, "clients", "vscode", "package.json"), "utf8"));
  assert.equal(manifest.license, "Apache-2.0");
  assert.match(fs.readFileSync(path.join(repo, "pyproject.toml"), "utf8"), /license = \{ text = "Apache-2.0" \}/);
  for (const file of [path.join(repo, "LICENSE"), path.join(repo, "clients", "vscode", "LICENSE")]) {
    assert.match(fs.readFileSync(file, "utf8"), /Apache License\s+Version 2\.0, January 2004/);
  }
  assert.doesNotMatch(fs.readFileSync(path.join(repo, "clients", "vscode", ".vscodeignore"), "utf8"), /LICENSE/);
});
