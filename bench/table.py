#!/usr/bin/env python3
"""Collects the parts of bench/run.sh into one table (stdout) and one JSON file.

Usage: table.py OUT_DIR STAMP QUICK. Each part left OUT_DIR/NAME.out (its stdout; the last line
that parses as {"rows": [...]} is used), NAME.rc ("EXIT SECONDS") and NAME.log; fleet.sh's own
JSON (OUT_DIR/fleet.json) is turned into rows here.
"""
import json
import os
import platform
import sys

out_dir, stamp, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
PARTS = ["fleet", "via", "throughput", "latency", "sessions", "logins", "commands", "appends", "load", "fuzz"]


def last_rows(path):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("rows"), list):
            return obj["rows"]
    return None


def row(item, figure, value, unit, reference="", ref_value=None, goal=""):
    ratio = round(value / ref_value, 3) if ref_value else None
    return {"item": item, "figure": figure, "value": value, "unit": unit, "reference": reference,
            "ref_value": ref_value, "ratio": ratio, "goal": goal}


def fleet_rows(path):
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None
    rows = []
    for r in data["results"]:
        n, pb = r["hosts"], r["playbook"]
        bang = lambda k: "" if r.get(k) in (0, None) else f" (exit {r[k]})"
        at50 = n == 50
        at_scale = n in (200, 1000)
        if r.get("ansible_s") is not None:
            rows.append(row("1 fleet", f"fleet run {pb}, {n} hosts{bang('fleet_exit')}", r["fleet_s"], "s",
                            f"ansible-playbook{bang('ansible_exit')}", r["ansible_s"],
                            "ratio <= 0.1 (10x faster) at 50 hosts" if at50 else ""))
        if r.get("pyinfra_s") is not None:
            rows.append(row("18.7 fleet", f"fleet run {pb}, {n} hosts{bang('fleet_exit')}", r["fleet_s"], "s",
                            f"pyinfra{bang('pyinfra_exit')}", r["pyinfra_s"], "ratio <= 0.2 (5x faster)"))
        rows.append(row("1 fleet", f"fleet run {pb}, {n} hosts", r["fleet_s"], "s",
                        f"floor: {n} parallel ssh true", r["floor_s"],
                        "ratio <= 1.1 (issue 18)" if at_scale else "ratio <= 1.5 at 50 hosts" if at50 else ""))
        if r.get("floor_at_connect_limit_s") is not None:
            rows.append(row("18.7 fleet", f"fleet run {pb}, {n} hosts", r["fleet_s"], "s",
                            f"floor: {n} ssh true, {r['connect_limit']} at once (fleet's connect limit)",
                            r["floor_at_connect_limit_s"]))
        if r.get("ansible_again_s") is not None:
            rows.append(row("1 fleet", f"fleet run {pb}, {n} hosts, 2nd run{bang('fleet_again_exit')}",
                            r["fleet_again_s"], "s", f"ansible-playbook 2nd run{bang('ansible_again_exit')}",
                            r["ansible_again_s"]))
        if r.get("fleet_cpu_s") is not None:
            rows.append(row("18.7 fleet", f"fleet run {pb}, {n} hosts: controller CPU (user+sys)",
                            r["fleet_cpu_s"], "s"))
            rows.append(row("18.7 fleet", f"fleet run {pb}, {n} hosts: controller peak RSS",
                            round(r["fleet_max_rss_kib"] / 1024, 1), "MiB"))
    return rows


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


all_rows, parts = [], {}
for name in PARTS:
    rc_path = os.path.join(out_dir, f"{name}.rc")
    if not os.path.exists(rc_path):
        continue
    rc, secs = open(rc_path).read().split()
    rows = fleet_rows(os.path.join(out_dir, "fleet.json")) if name == "fleet" else \
        last_rows(os.path.join(out_dir, f"{name}.out"))
    parts[name] = {"exit": int(rc), "seconds": int(secs), "log": os.path.join(out_dir, f"{name}.log")}
    if rows is None:
        rows = [row(name, f"no figures (exit {rc}); see {name}.log", int(secs), "s run")]
    all_rows.extend(rows)

cols = ["item", "figure", "value", "unit", "reference", "ref", "ratio", "goal"]
table = [[r["item"], r["figure"], fmt(r["value"]), r["unit"], r["reference"], fmt(r["ref_value"]),
          (fmt(r["ratio"]) + "x") if r["ratio"] is not None else "", r["goal"]] for r in all_rows]
widths = [max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)]
print(f"bench/run.sh{' --quick' if quick else ''} {stamp}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
      "ratio = value / reference")
print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
print("  ".join("-" * w for w in widths))
for t in table:
    print("  ".join(v.ljust(w) for v, w in zip(t, widths)).rstrip())
result = {"stamp": stamp, "quick": quick, "cpus": os.cpu_count(), "host": platform.node(),
          "loadavg_at_end": os.getloadavg(), "parts": parts, "rows": all_rows}
path = os.path.join(out_dir, "results.json")
json.dump(result, open(path, "w"), indent=1)
print(f"JSON: {path}")
