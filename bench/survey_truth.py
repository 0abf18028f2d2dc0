#!/usr/bin/env python3
"""Scores the survey analysis against truth.json over many synth seeds.

For each seed: `upshot synth --seed N` (small scale), the sample survey config
(experiments/survey-attribution.toml) run on that export, and every channel's blended new
customers compared with its true-origin new customers (truth.json `origins`), for the three
estimators result.json reports: the measurement model (the default), the post-stratified
estimate (`segment.estimator = "post_stratified"`) and Fairing's naive count
(`segment.estimator = "naive"`), and the model's interval widened to the wrong-answer bound
(`blended_customers_bound`, "bound"). Prints, per channel and estimator, how many seeds' 95%
intervals hold the truth and the mean relative error, then the pooled coverage with its
binomial standard error; with --check, exits 1 when the model misses the issue's goal
(at least 43 of 50 seeds per channel, pooled coverage within 3 standard errors of 95%).

Usage: bench/survey_truth.py [--seeds 50] [--first 1001] [--bin target/debug/upshot] [--check]
       [--synth-args "--survey-world misspecified"] [--param "response_ratio = 1.5"]
"""

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import tempfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESTIMATORS = ["model", "bound", "post_stratified", "naive"]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def one_seed(binary, seed, work, synth_args, params):
    data = os.path.join(work, "notebooks-data")
    run([binary, "synth", "--seed", str(seed), "--out", data, "--quiet"] + synth_args)
    exp = os.path.join(work, "experiments")
    os.makedirs(exp, exist_ok=True)
    config = open(os.path.join(ROOT, "experiments", "survey-attribution.toml")).read()
    if params:
        config = config.replace("[params]\n", "[params]\n" + "\n".join(params) + "\n", 1)
    open(os.path.join(exp, "survey-attribution.toml"), "w").write(config)
    reports = os.path.join(work, "reports")
    run([binary, "run", os.path.join(exp, "survey-attribution.toml"), "--out", reports, "--quiet"])
    truth = json.load(open(os.path.join(data, "truth.json")))
    result = json.load(open(os.path.join(reports, "survey-attribution-2025", "result.json")))
    out = {}
    for origin in truth["origins"]:
        channel, true = origin["channel"], origin["new_customers"]
        for m in result["metrics"]:
            if m["name"] not in ("blended_customers", "blended_customers_bound") or m["segment"].get("channel") != channel:
                continue
            estimator = "bound" if m["name"] == "blended_customers_bound" else m["segment"].get("estimator", "model")
            lo, hi = m.get("ci_low"), m.get("ci_high")
            out[(channel, estimator)] = (m["estimate"], lo, hi, true)
    # The headline's "X% of organic customers came from paid channels".
    organic = [o for o in truth["origins"] if o["channel"] == "organic"]
    no_click = sum(o["by_click_channel"].get("organic", 0) for o in truth["origins"])
    if organic and no_click:
        true = 1 - organic[0]["by_click_channel"].get("organic", 0) / no_click
        for m in result["metrics"]:
            if m["name"] == "dark_paid_share":
                out[("dark_paid_share", "model")] = (m["estimate"], m.get("ci_low"), m.get("ci_high"), true)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--first", type=int, default=1001)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "upshot"))
    ap.add_argument("--synth-args", default="")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--param", action="append", default=[], help='a [params] line to add, e.g. "response_ratio = 1.5"')
    args = ap.parse_args()
    synth_args = shlex.split(args.synth_args)
    hits = defaultdict(int)
    errors = defaultdict(list)
    widths = defaultdict(list)
    channels = []
    for seed in range(args.first, args.first + args.seeds):
        with tempfile.TemporaryDirectory() as work:
            scored = one_seed(args.bin, seed, work, synth_args, args.param)
        for (channel, estimator), (est, lo, hi, true) in scored.items():
            if channel not in channels:
                channels.append(channel)
            hits[(channel, estimator)] += int(lo is not None and hi is not None and lo <= true <= hi)
            errors[(channel, estimator)].append((est - true) / true)
            if lo is not None and hi is not None:
                widths[(channel, estimator)].append((hi - lo) / true)
    n = args.seeds
    channels = [c for c in channels if c != "dark_paid_share"]
    print(f"Survey vs truth.json: {n} seeds ({args.first}..{args.first + n - 1}) {args.synth_args} {' '.join(args.param)}".rstrip())
    print()
    print("| channel | " + " | ".join(f"{e}: covered / mean error" for e in ESTIMATORS) + " | mean interval width / truth: model, bound |")
    print("|---|" + "---|" * (len(ESTIMATORS) + 1))
    for channel in channels:
        cells = []
        for e in ESTIMATORS:
            errs = errors.get((channel, e), [])
            if not errs:
                cells.append("n/a")
                continue
            cells.append(f"{hits[(channel, e)]}/{n} / {100 * sum(errs) / len(errs):+.1f}%")
        w = [widths.get((channel, e), []) for e in ("model", "bound")]
        cells.append(", ".join(f"{100 * sum(x) / len(x):.0f}%" if x else "n/a" for x in w))
        print(f"| {channel} | " + " | ".join(cells) + " |")
    if ("dark_paid_share", "model") in errors:
        errs = errors[("dark_paid_share", "model")]
        print(f"| headline: organic customers from paid (dark_paid_share) | {hits[('dark_paid_share', 'model')]}/{n} / {100 * sum(errs) / len(errs):+.1f}% | | | | |")
    se = math.sqrt(0.95 * 0.05 / (n * len(channels)))
    print()
    ok = True
    for e in ESTIMATORS:
        if not any((c, e) in errors for c in channels):
            continue
        pooled = sum(hits[(c, e)] for c in channels) / (n * len(channels))
        print(f"pooled 95% coverage, {e}: {100 * pooled:.1f}% (binomial SE {100 * se:.1f} points)")
        if e == "model":
            ok = pooled >= 0.95 - 3 * se and all(hits[(c, e)] >= math.ceil(0.86 * n) for c in channels)
    if args.check and not ok:
        print("the measurement model misses the coverage goal")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
