"""Python chainladder on upshot's observed monthly triangles, timed.

Reads tables/triangle.csv of a monthly `cohorts` run (by channel and campaign),
keeps the observed cells, fits MackChainladder on one Triangle that holds every
segment (the package's vectorised way), and writes the same triangles as JSON
for upshot's `chainladder_bench` example.
"""
import json
import sys
import time
import warnings

import chainladder as cl
import pandas as pd

warnings.filterwarnings("ignore")
source, target = sys.argv[1], sys.argv[2]
df = pd.read_csv(source)
df = df[(df.projected == "no") & (df.channel != "all")].copy()
df["origin"] = pd.to_datetime(df.cohort + "-01")
df["valuation"] = [o + pd.DateOffset(months=int(a)) for o, a in zip(df.origin, df.age)]

best_build, best_fit = float("inf"), float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    tri = cl.Triangle(df, origin="origin", development="valuation", columns=["purchases"],
                      index=["channel", "campaign"], cumulative=True)
    t1 = time.perf_counter()
    model = cl.MackChainladder().fit(tri)
    reserve = float(model.ibnr_.sum().sum())
    t2 = time.perf_counter()
    best_build, best_fit = min(best_build, t1 - t0), min(best_fit, t2 - t1)
segments = []
for keys, g in df.groupby(["channel", "campaign"]):
    rows = [list(c.sort_values("age").purchases) for _, c in g.groupby("cohort")]
    segments.append({"keys": list(keys), "rows": rows})
ages = int(df.age.max()) + 1
json.dump({"ages": ages, "segments": segments}, open(target, "w"))
print(f"python chainladder {cl.__version__}: {len(segments)} triangles of {ages} ages; "
      f"Triangle build {best_build * 1000:.1f} ms, MackChainladder fit {best_fit * 1000:.1f} ms (best of 5); "
      f"total reserve {reserve:.4f}")
