"""docs/gpu-efficiency.png from bench/results/gpu-efficiency.json: p95 GPU wait and allocation
efficiency against the pool size, per policy. Run through plot.sh (its own venv with matplotlib)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, out = sys.argv[1], sys.argv[2]
r = json.load(open(src))
policies = [s["policy"] for s in r["summary"]]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
for name in policies:
    rows = sorted((x for x in r["results"] if x["policy"] == name), key=lambda x: x["pool"])
    pools = [x["pool"] for x in rows]
    style = dict(marker="o", linestyle="--" if name == "static" else "-", label=name)
    line = ax1.plot(pools, [x["metrics"]["queueP95S"] for x in rows], **style)[0]
    # The measured wait adds this machine's control-plane latency: thin and dotted, same colour.
    ax1.plot(pools, [x["metrics"]["waitP95S"] for x in rows], linestyle=":", linewidth=1, color=line.get_color())
    ax2.plot(pools, [100 * x["metrics"]["allocationEfficiency"] for x in rows], **style)
ax1.axhline(r["targetP95WaitS"], color="grey", linewidth=1)
ax1.text(ax1.get_xlim()[0], r["targetP95WaitS"] * 1.1, f'  target: p95 ≤ {r["targetP95WaitS"]} s', color="grey", fontsize=8)
ax1.set_yscale("symlog", linthresh=10)
ax1.set_ylim(bottom=0)
ax1.set_xlabel("GPUs in the pool")
ax1.set_ylabel("p95 wait, simulated s (symlog)")
ax1.set_title("p95 GPU wait (solid) and measured wait (dotted) vs pool size")
ax2.set_xlabel("GPUs in the pool")
ax2.set_ylabel("allocation efficiency (% of GPU time held spent executing)")
ax2.set_title("Allocation efficiency vs pool size")
ax2.set_ylim(0, 100)
for ax in (ax1, ax2):
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(f'bench/gpu-efficiency: {r["users"]} users, seed {r["seed"]}, {r["horizonHours"]} h simulated at {r["compression"]}x', fontsize=10)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
