"""Summary figures for RESULTS.md from a bench_lasso.py JSON: ratios, slow cases,
objective agreement, cold start and CV (computed, never hand-copied).

Usage: python benchmarks/summarize.py benchmarks/_out/final.json
"""

import json
import sys

import numpy as np

ANCHORS = ("sklearn", "skglm", "celer")
TARGETS = ("1e-06", "1e-10")


def _reach(solver_result, target):
    hit = (solver_result or {}).get("reach", {}).get(target)
    return hit["time"] if hit else None


def _geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def main(path):
    d = json.load(open(path))
    rows = []
    for run in d["runs"]:
        s = run["solvers"]
        for target in TARGETS:
            anchor_times = [_reach(s.get(a), target) for a in ANCHORS]
            anchor_times = [t for t in anchor_times if t is not None]
            named = [(_reach(s.get(a), target), a) for a in ANCHORS]
            named = [(t, a) for t, a in named if t is not None]
            rows.append((run, target, _reach(s.get("ours"), target),
                         _reach(s.get("sklearn"), target),
                         min(anchor_times) if anchor_times else None,
                         min(named)[1] if named else None))
    missing = [(r["case"], r["estimator"], r["fit_intercept"], r["alpha_ratio"], t)
               for r, t, ours, _, _, _ in rows if ours is None]
    vs_sk = [ours / sk for _, _, ours, sk, _, _ in rows if ours and sk]
    vs_best = [ours / best for _, _, ours, _, best, _ in rows if ours and best]
    print(f"pairs: {len(rows)}; ours never reached: {missing}")
    print(f"ours/sklearn over {len(vs_sk)} pairs: geomean {_geomean(vs_sk):.2f}, "
          f"median {np.median(vs_sk):.2f}, slower in {sum(x > 1 for x in vs_sk)}, "
          f">1.2x in {sum(x > 1.2 for x in vs_sk)}")
    print(f"ours/fastest anchor over {len(vs_best)} pairs: geomean {_geomean(vs_best):.2f}, "
          f"median {np.median(vs_best):.2f}, slower in {sum(x > 1 for x in vs_best)}, "
          f">1.2x in {sum(x > 1.2 for x in vs_best)}, max {max(vs_best):.2f}")
    # issue 3's "10x faster than scikit-learn on sparse data with fit_intercept=True":
    # sklearn time / ours over the sparse cases (not the dense one) with an intercept
    icpt = [sk / ours for run, _, ours, sk, _, _ in rows
            if ours and sk and run["fit_intercept"] and not run["case"].startswith("dense")]
    if icpt:
        print(f"sklearn/ours, sparse data with an intercept, over {len(icpt)} pairs: "
              f"median {np.median(icpt):.1f}x, geomean {_geomean(icpt):.1f}x, "
              f"{sum(x >= 10 for x in icpt)} pairs at 10x or more")
    print("slower than sklearn:")
    for run, target, ours, sk, _, _ in rows:
        if ours and sk and ours > sk:
            print(f"  {run['case']} {run['estimator']} fi={run['fit_intercept']} "
                  f"/{run['alpha_ratio']} {target}: {ours * 1e3:.1f} ms vs {sk * 1e3:.1f} ms "
                  f"({ours / sk:.2f}x)")
    print("more than 1.2x slower than the fastest anchor:")
    for run, target, ours, _, best, who in rows:
        if ours and best and ours > 1.2 * best:
            print(f"  {run['case']} {run['estimator']} fi={run['fit_intercept']} "
                  f"/{run['alpha_ratio']} {target}: {ours * 1e3:.1f} ms vs {who} "
                  f"{best * 1e3:.1f} ms ({ours / best:.2f}x)")
    worst = max((r["solvers"]["ours"]["final_obj"] - r["solvers"]["sklearn"]["final_obj"])
                / abs(r["solvers"]["sklearn"]["final_obj"])
                for r in d["runs"] if "sklearn" in r["solvers"])
    print(f"max (P_ours - P_sklearn)/P_sklearn at tightest tol: {worst:.1e}")
    cold = d.get("cold") or {}
    if cold:
        print("import medians:", {k: round(v["median"], 3) for k, v in cold["import"].items()})
        print("fit:", {k: {kk: round(vv, 4) for kk, vv in v["median"].items()}
                       for k, v in cold["fit"].items()})
    for cv in d.get("cv", []):
        print("CV", cv["case"], "ours", round(cv["ours"]["time"], 2), "sk",
              round(cv["sklearn"]["time"], 2), "alpha", cv["ours"]["alpha_"],
              cv["sklearn"]["alpha_"], "celer", cv.get("celer", {}).get("time"))


if __name__ == "__main__":
    main(sys.argv[1])
