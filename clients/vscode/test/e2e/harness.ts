/**
 * The real pieces for the end-to-end test: the fake model backend (a real HTTP server),
 * code-server (a real VS Code) with this extension unpacked in its extensions folder,
 * and headless Debian Chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { it, type TestContext } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

export const extensionRoot = path.resolve(__dirname, "../../..");
export const repo = path.resolve(extensionRoot, "../..");
export const python = path.join(repo, ".venv", "bin", "python");
const manifest = JSON.parse(fs.readFileSync(path.join(extensionRoot, "package.json"), "utf8"));

function readLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) resolve(match);
    });
    child.once("exit", (code) => reject(new Error(`exited (${code}) before printing ${pattern}: ${seen}`)));
  });
}

export class FakeBackend {
  private constructor(readonly child: ChildProcess, readonly url: string) {}

  static async start(script: object): Promise<FakeBackend> {
    const child = spawn(python, ["-m", "tests.support.fake_backend", "--port", "0", "--script", JSON.stringify(script)], {
      cwd: repo,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const match = await readLine(child, /PORT (\d+)/);
    return new FakeBackend(child, `http://127.0.0.1:${match[1]}`);
  }

  async log(): Promise<Array<{ path: string; prompt: string; tokens_sent: number; disconnected: boolean; finished: boolean }>> {
    return (await fetch(`${this.url}/_log`)).json();
  }

  async script(script: object): Promise<void> {
    await fetch(`${this.url}/_script`, { method: "POST", body: JSON.stringify(script) });
  }

  stop(): void {
    this.child.kill();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export class CodeServer {
  private constructor(readonly child: ChildProcess, readonly url: string, readonly browser: Browser, readonly page: Page) {}

  static async start(root: string, folder: string, settings: object): Promise<CodeServer> {
    const bin = path.join(extensionRoot, ".e2e", "code-server-4.100.3", "node_modules", ".bin", "code-server");
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup-vscode.sh`);
    const userData = path.join(root, "user-data");
    const extensions = path.join(root, "extensions");
    fs.mkdirSync(path.join(userData, "User"), { recursive: true });
    fs.mkdirSync(extensions, { recursive: true });
    fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
    fs.symlinkSync(extensionRoot, path.join(extensions, `${manifest.publisher}.${manifest.name}-${manifest.version}`));
    const port = await freePort();
    const child = spawn(
      bin,
      [
        "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check",
        "--disable-workspace-trust", "--extensions-dir", extensions, "--user-data-dir", userData, folder,
      ],
      // PYTHONPATH: the server runs from this checkout even where `pip install -e .` was not run.
      // XDG_STATE_HOME: the server's local counts (ghostls stats) stay in this run.
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PYTHONPATH: repo, XDG_DATA_HOME: path.join(root, "xdg"), XDG_STATE_HOME: path.join(root, "state") },
      },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 60_000, "code-server /healthz");
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    return new CodeServer(child, url, browser, page);
  }

  async stop(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    this.child.kill();
  }
}

/** Poll `probe` until it is true (event-driven pieces live in other processes). */
export async function waitFor(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  describe?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${describe ? `; saw ${JSON.stringify(await describe())}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The ghost text on screen, whitespace removed (VS Code splits it into many spans). */
export async function ghostTextOn(page: Page): Promise<string> {
  const selector = ".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text";
  const parts = await page.locator(selector).evaluateAll(
    (elements, outer) =>
      elements.filter((element) => !element.parentElement?.closest(outer)).map((element) => element.textContent ?? ""),
    selector,
  );
  return parts.join("").replace(/[\s\u00a0]+/g, "");
}

/**
 * The settings of a scenario against the fake backend at `url`: ghostls on it, VS
 * Code's own word suggestions and the workbench's welcome noise out of the way.
 */
export function fakeBackendSettings(url: string, model: string, extra: object = {}): object {
  return {
    "ghostls.pythonPath": python,
    "ghostls.backend.kind": "openai",
    "ghostls.backend.url": url,
    "ghostls.backend.model": model,
    "editor.inlineSuggest.enabled": true,
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "security.workspace.trust.enabled": false,
    "extensions.ignoreRecommendations": true,
    "chat.commandCenter.enabled": false,
    "files.autoSave": "off",
    ...extra,
  };
}

/**
 * A fresh `<tmp>/ghostls-vscode-<tag>-…/project` for code-server to open: `root` holds
 * its user data beside the `workspace`.
 */
export function freshWorkspace(tag: string): { root: string; workspace: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `ghostls-vscode-${tag}-`));
  const workspace = path.join(root, "project");
  fs.mkdirSync(workspace);
  return { root, workspace };
}

/** An empty `dir` for this run's screenshots (the last run's removed). */
export function freshShots(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

/** Open `name` from the explorer and put the focus in its editor. */
export async function openFile(page: Page, name: string): Promise<void> {
  const row = page.locator(`.monaco-list-row[aria-label*="${name}"], .monaco-list-row:has-text("${name}")`).first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  await page.locator(`.tab.active:has-text("${name}")`).first().waitFor({ timeout: 30_000 });
  await page.locator(".monaco-editor .view-lines").first().click();
}

/**
 * `shot(name)` saves a screenshot into `dir`; `scenario` is `it` that also keeps one of
 * what the user saw when it fails.
 */
export function screenshots(dir: string, page: () => Page) {
  const shot = async (name: string): Promise<void> => {
    await page().screenshot({ path: path.join(dir, `${name}.png`) });
  };
  const scenario = (name: string, body: (t: TestContext) => Promise<void>): void => {
    it(name, async (t) => {
      try {
        await body(t);
      } catch (error) {
        await shot(`failed-${name.replace(/\W+/g, "-")}`).catch(() => undefined);
        throw error;
      }
    });
  };
  return { shot, scenario };
}
