// JupyterLab in a real browser (Debian's Chromium, headless, driven by playwright-core): a user
// opens JupyterLab with the token, creates a notebook from the launcher card of the remote
// kernelspec, runs a cell, and sees output produced inside the kernel's pod; then the same in the
// direct-mode notebook (no gateway). The screenshot is kept in docs/images/ for the README.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { NAMES, repoRoot, until, type E2EEnvironment } from "../../e2e/setup.ts";
import { e2eEnvironment } from "./environment.ts";

const CHROMIUM = "/usr/bin/chromium";
// The committed screenshot in docs/ is refreshed only on request (EJ_UPDATE_SCREENSHOT=1), so a
// test run leaves the work tree clean; otherwise it goes to a temp file.
export const SCREENSHOT = process.env.EJ_UPDATE_SCREENSHOT === "1"
  ? join(repoRoot, "docs/images/jupyterlab-remote-kernel.png")
  : join(tmpdir(), "elastic-jupyter-jupyterlab-remote-kernel.png");

describe("JupyterLab in headless Chromium runs a cell in a JupyterKernel pod", function () {
  this.timeout(180_000);
  let env: E2EEnvironment;
  let context: BrowserContext | undefined;
  let profile: string;
  let page: Page;

  before(async function () {
    this.timeout(400_000);
    // ci/run-tests installs it up front; a developer's `npm test` as root gets it here.
    if (!existsSync(CHROMIUM)) execFileSync(join(repoRoot, "ci/e2e/install-chromium.sh"), { stdio: "inherit" });
    env = await e2eEnvironment();
    profile = mkdtempSync(join(tmpdir(), "ej-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    page = context.pages()[0] ?? await context.newPage();
  });

  afterEach(async function () {
    // A failed run leaves what the browser showed next to the test's logs.
    if (this.currentTest?.state === "failed" && page) {
      const shot = join(env.options.stateDir, "browser-failure.png");
      await page.screenshot({ path: shot }).then(() => console.log(`      failure screenshot: ${shot}`), () => {});
    }
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("opens a notebook with the remote kernelspec, runs a cell and shows its output", async () => {
    await page.goto(`${env.notebookUrl}/lab?token=${env.token}`);
    // The launcher lists the gateway's kernelspecs (from the JupyterKernelSpecs) as notebook cards.
    const card = page.locator(`.jp-LauncherCard[data-category="Notebook"][title="Python (JupyterKernel pod)"]`);
    await card.waitFor({ timeout: 60_000 });
    await card.click();

    // A new notebook opens with that kernel; the kernel starts as a JupyterKernel pod. The status
    // bar says "<display name> | Idle" once its kernel_info reply arrived.
    const idle = page.locator(".jp-StatusBar-Item", { hasText: "Python (JupyterKernel pod) | Idle" }).first();
    // No reload: JupyterLab opens a new kernel's websocket twice in a row with one session id,
    // which used to stall the second connection at the gateway (elastic_jupyter/channels.py fixes
    // it; ci/test/python/test_first_kernel.py reproduces it). Idle must come on the first load.
    await idle.waitFor({ timeout: 45_000 });
    const editor = page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content").first();
    await editor.click();
    const code = "import socket, os\nprint('hello from', socket.gethostname(), 'kernel', os.environ['KERNEL_ID'][:8])";
    await page.keyboard.type(code);
    await until("the typed code in the cell", async () => (await editor.innerText()).includes("hello from"), 10_000);
    await page.keyboard.press("Shift+Enter");
    const output = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").first();
    await output.waitFor({ timeout: 60_000 });
    await until("the cell's output text", async () => /hello from/.test(await output.innerText()), 30_000);
    const text = (await output.innerText()).trim();

    // The output names the kernel pod: the cell ran there.
    const kernels = JSON.parse(await env.kubectl(["get", "jupyterkernels", "-n", env.namespace, "-o", "json"])).items as any[];
    const running = kernels.filter((k) => k.spec.kernelSpec?.name === NAMES.cpuKernelspec && k.status?.phase === "Running");
    expect(running, "a Running JupyterKernel for the notebook").to.have.length.at.least(1);
    const names = running.map((k) => k.status.podName as string);
    expect(names.some((n) => text.startsWith(`hello from ${n} kernel `)), `output ${JSON.stringify(text)} names one of ${names.join(", ")}`).to.equal(true);

    // JupyterLab's first-run "official Jupyter news?" toast would cover part of the screenshot.
    await page.getByRole("button", { name: "No", exact: true }).click({ timeout: 3000 }).catch(() => {});
    await page.locator(".Toastify__toast").first().waitFor({ state: "detached", timeout: 5000 }).catch(() => {});
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    console.log(`      output: ${text}; screenshot: ${SCREENSHOT}`);
  });

  it("direct mode (no gateway): the same in the direct-mode notebook, whose server starts the kernel pod itself", async () => {
    const direct = env.direct!;
    const p = await context!.newPage();
    try {
      // A workspace of its own, reset: in the e2e both notebook pods share HOME and working
      // directory (the image map's), so the default workspace would reopen the first test's notebook.
      await p.goto(`${direct.url}/lab/workspaces/direct-mode?reset&token=${direct.token}`);
      // The launcher's cards are the JupyterKernelSpecs, offered by our kernelspec manager.
      const card = p.locator(`.jp-LauncherCard[data-category="Notebook"][title="Python (JupyterKernel pod)"]`);
      await card.waitFor({ timeout: 60_000 });
      await card.click();
      await p.locator(".jp-StatusBar-Item", { hasText: "Python (JupyterKernel pod) | Idle" }).first().waitFor({ timeout: 45_000 });
      const editor = p.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content").first();
      await editor.click();
      await p.keyboard.type("import socket, os\nprint('direct from', socket.gethostname(), os.environ['KERNEL_ID'][:8])");
      await until("the typed code in the cell", async () => (await editor.innerText()).includes("direct from"), 10_000);
      await p.keyboard.press("Shift+Enter");
      const output = p.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").first();
      await output.waitFor({ timeout: 60_000 });
      await until("the cell's output text", async () => /direct from/.test(await output.innerText()), 30_000);
      const text = (await output.innerText()).trim();
      // It ran in the pod of a Direct JupyterKernel of this notebook.
      const kernels = (JSON.parse(await env.kubectl(["get", "jupyterkernels", "-n", env.namespace, "-l", `kubeflow.tkestack.io/notebook=${NAMES.directNotebook}`, "-o", "json"])).items as any[])
        .filter((k) => k.spec.connectionMode === "Direct" && k.status?.phase === "Running");
      const names = kernels.map((k) => k.status.podName as string);
      expect(names.some((n) => text.startsWith(`direct from ${n} `)), `output ${JSON.stringify(text)} names one of ${names.join(", ")}`).to.equal(true);
      console.log(`      direct-mode output: ${text}`);
    } catch (e) {
      const shot = join(env.options.stateDir, "browser-direct-failure.png");
      await p.screenshot({ path: shot }).then(() => console.log(`      failure screenshot: ${shot}`), () => {});
      throw e;
    } finally {
      await p.close();
    }
  });
});
