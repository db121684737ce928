/**
 * What a new user sees with a real model and VS Code's default settings: the embedded
 * engine with a local GGUF (`ghostls.backend.modelPath`, the only setting a user without
 * the Hub must give), nothing else changed, not even the 8 s `completion.timeoutMs`.
 * Opt-in (a real model on this machine's CPU, minutes):
 * GHOSTLS_E2E_MODEL=/path/to/model.gguf node --test out/test/e2e/realModel.test.js
 * Screenshots and what Tab gave land in .e2e/screenshots-real-model/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, freshShots, freshWorkspace, python, waitFor } from "./harness";

const MODEL = process.env.GHOSTLS_E2E_MODEL;
const shots = path.join(extensionRoot, ".e2e", "screenshots-real-model");
const FILES: Record<string, string> = {
  "primes.py": 'def is_prime(n):\n    """Return True if n is a prime number."""',
  "fib.py": "def fib(n):\n    if n <= 1:\n        return n\n    return",
};

describe("a new user with a real model and default settings (GHOSTLS_E2E_MODEL)", { skip: !MODEL && "GHOSTLS_E2E_MODEL is not set" }, () => {
  let vscode: CodeServer;
  let page: Page;
  let workspace: string;
  const seen: Record<string, unknown> = {};

  before(async () => {
    freshShots(shots);
    const { root, workspace: project } = freshWorkspace("real-model");
    workspace = project;
    for (const [name, text] of Object.entries(FILES)) fs.writeFileSync(path.join(workspace, name), text);
    vscode = await CodeServer.start(root, workspace, {
      "ghostls.pythonPath": python,
      "ghostls.backend.kind": "embedded",
      "ghostls.backend.modelPath": MODEL,
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": false,
    });
    page = vscode.page;
  });

  after(async () => {
    fs.writeFileSync(path.join(shots, "seen.json"), JSON.stringify(seen, null, 1));
    await vscode?.stop();
  });

  async function open(name: string): Promise<void> {
    const row = page.locator(`.monaco-list-row:has-text("${name}")`).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.locator(`.statusbar-item:has-text("${path.basename(MODEL ?? "")}")`).first().waitFor({ timeout: 300_000 });
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
  }

  /** Waits for ghost text after the last key, Tab accepts it, the file is saved and parsed. */
  async function acceptAndParse(name: string, keys: () => Promise<void>, tabs = 1): Promise<string> {
    const started = Date.now();
    await keys();
    const typedAt = Date.now();
    const ghost = page.locator(".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text").first();
    await ghost.waitFor({ timeout: 60_000 });
    const shownMs = Date.now() - typedAt;
    await page.waitForTimeout(3_000); // a streamed block goes on growing
    await page.screenshot({ path: path.join(shots, `${name}-suggestion.png`) });
    // Monaco draws spaces as no-break spaces; the ghost text is part of the view's text.
    const drawn = (await page.locator(".monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
    const lastDrawn = drawn.split("\n").filter((line) => line.trim()).pop()?.trim() ?? "";
    for (let tab = 0; tab < tabs; tab++) {
      await page.keyboard.press("Tab");
      await page.waitForTimeout(500);
    }
    const file = path.join(workspace, name);
    // Accepting is asynchronous in VS Code: save until the file holds what was drawn.
    await waitFor(
      async () => {
        await page.keyboard.press("Control+S");
        await page.waitForTimeout(300);
        return fs.readFileSync(file, "utf8").includes(lastDrawn);
      },
      30_000,
      `${name} saved with the accepted suggestion (${JSON.stringify(lastDrawn)})`,
      async () => fs.readFileSync(file, "utf8"),
    );
    const text = fs.readFileSync(file, "utf8");
    await page.screenshot({ path: path.join(shots, `${name}-accepted.png`) });
    seen[name] = { shownMs, keysMs: typedAt - started, drawn, accepted: text };
    execFileSync(python, ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", file]);
    return text;
  }

  it("a new line under a docstring: a body that parses", async () => {
    await open("primes.py");
    const text = await acceptAndParse("primes.py", async () => {
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
    });
    assert.match(text, /return/);
  });

  it("a return begun: the rest of the line", async () => {
    await open("fib.py");
    // VS Code's word suggestions (on by default) open their widget on `f` too, and the
    // first Tab takes its `fib`; the ghost text goes on after it and the second Tab
    // takes the rest (as with Copilot).
    const text = await acceptAndParse(
      "fib.py",
      async () => {
        await page.keyboard.press("End");
        await page.keyboard.type(" f", { delay: 120 });
      },
      2,
    );
    assert.match(text, /return f\w*\(/);
  });
});
