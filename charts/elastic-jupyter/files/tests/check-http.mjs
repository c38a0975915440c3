// `helm test` check, run by Node in the controller image: GETs each URL until it answers 200
// (the operator creates the gateway and notebooks after `helm install` returns, so they may still
// be starting), then checks the body. Usage:
//   node check-http.mjs <url> [--kernelspecs name,name]   exit 0 when every check passes
// CHECK_TOKEN (e.g. the gateway's token, from its Secret) is sent as `Authorization: token <t>`.
const args = process.argv.slice(2);
const url = args[0];
const kernelspecsAt = args.indexOf("--kernelspecs");
const expected = kernelspecsAt >= 0 ? (args[kernelspecsAt + 1] ?? "").split(",").filter(Boolean) : [];
const headers = process.env.CHECK_TOKEN ? { Authorization: `token ${process.env.CHECK_TOKEN}` } : {};
const deadline = Date.now() + Number(process.env.CHECK_TIMEOUT_SECONDS ?? 300) * 1000;

async function get(path) {
  const res = await fetch(new URL(path, url), { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

async function check() {
  const api = await get("/api");
  if (typeof api.version !== "string") throw new Error(`GET /api: no version in ${JSON.stringify(api)}`);
  console.log(`${url}/api answers: version ${api.version}`);
  if (expected.length === 0) return;
  const specs = await get("/api/kernelspecs");
  const names = Object.keys(specs.kernelspecs ?? {});
  const missing = expected.filter((n) => !names.includes(n));
  if (missing.length) throw new Error(`GET /api/kernelspecs lists ${JSON.stringify(names)}; missing ${JSON.stringify(missing)}`);
  console.log(`${url}/api/kernelspecs lists ${names.join(", ")}`);
}

for (;;) {
  try {
    await check();
    process.exit(0);
  } catch (e) {
    if (Date.now() > deadline) {
      console.error(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    }
    console.log(`not yet: ${e instanceof Error ? e.message : String(e)}`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}
