"""Independent oracle for phm-stats: runs cases through PHStatsMethods (DHSC's Python port of
PHEindicatormethods) and prints the results.

Reads {"cases": [...]} as JSON on stdin; writes {"results": [...]} as JSON on stdout, one
result per case and in the same order: {"ok": {...}} with the package's numbers (NaN as null),
or {"error": "..."} when the package refuses the case. Used by tests/oracle.rs; needs
`pip install phstatsmethods==0.1.16`.
"""

import json
import math
import sys
import warnings
from importlib import metadata

VERSION = "0.1.16"
LEVELS = [0.95, 0.998]

try:
    installed = metadata.version("phstatsmethods")
    import pandas as pd
    import PHStatsMethods as ph
except Exception as e:  # missing package or one of its dependencies
    sys.exit(f"PHStatsMethods is not importable ({e}): pip install phstatsmethods=={VERSION}")
if installed != VERSION:
    sys.exit(f"PHStatsMethods {installed} is installed, the oracle is pinned: pip install phstatsmethods=={VERSION}")

warnings.simplefilter("ignore")


def number(x):
    """A JSON-safe float: NaN and infinities become null."""
    x = float(x)
    return x if math.isfinite(x) else None


def limits(row):
    return {
        "value": number(row["Value"]),
        "lower_95": number(row["lower_95_ci"]),
        "upper_95": number(row["upper_95_ci"]),
        "lower_99_8": number(row["lower_99_8_ci"]),
        "upper_99_8": number(row["upper_99_8_ci"]),
    }


def proportion(case):
    df = pd.DataFrame({"x": [case["numerator"]], "n": [case["denominator"]]})
    out = ph.ph_proportion(df, "x", "n", confidence=LEVELS, multiplier=int(case["multiplier"]))
    return limits(out.iloc[0])


def rate(case):
    df = pd.DataFrame({"x": [case["count"]], "n": [case["denominator"]]})
    out = ph.ph_rate(df, "x", "n", confidence=LEVELS, multiplier=int(case["multiplier"]))
    return limits(out.iloc[0])


def dsr(case):
    bands = case["bands"]
    df = pd.DataFrame({
        "x": [b["events"] for b in bands],
        "n": [b["population"] for b in bands],
        "w": [b["standard"] for b in bands],
    })
    out = ph.ph_dsr(df, "x", "n", "w", confidence=LEVELS, multiplier=int(case["multiplier"]),
                    euro_standard_pops=False)
    result = limits(out.iloc[0])
    result["total_count"] = number(out.iloc[0]["Total Count"])
    return result


def isr(case):
    bands = case["bands"]
    df = pd.DataFrame({
        "x": [b["observed"] for b in bands],
        "n": [b["population"] for b in bands],
        "rx": [b["reference_events"] for b in bands],
        "rn": [b["reference_population"] for b in bands],
    })
    ratio = ph.ph_ISRatio(df, "x", "n", "rx", "rn", confidence=LEVELS, refvalue=int(case["scale"]))
    rate = ph.ph_ISRate(df, "x", "n", "rx", "rn", confidence=LEVELS, multiplier=int(case["multiplier"]))
    return {
        "expected": number(ratio.iloc[0]["Expected"]),
        "ratio": limits(ratio.iloc[0]),
        "rate": limits(rate.iloc[0]),
    }


def mean(case):
    df = pd.DataFrame({"v": case["values"], "g": ["area"] * len(case["values"])})
    out = ph.ph_mean(df, "v", "g", confidence=LEVELS)
    result = limits(out.iloc[0])
    result["standard_deviation"] = number(out.iloc[0]["stdev"])
    return result


def funnel_significance(case):
    statistic = case["statistic"]
    points = case["points"]
    if statistic == "proportion":
        df = pd.DataFrame({"x": [p["numerator"] for p in points], "n": [p["denominator"] for p in points]})
        out = ph.assign_funnel_significance(df, "x", "proportion", denom_col="n")
    elif statistic == "ratio":
        df = pd.DataFrame({"x": [p["observed"] for p in points], "n": [p["expected"] for p in points]})
        out = ph.assign_funnel_significance(df, "x", "ratio", denom_col="n")
    else:
        df = pd.DataFrame({
            "x": [p["events"] for p in points],
            "r": [float("nan") if p["rate"] is None else p["rate"] for p in points],
            "n": [p["denominator"] for p in points],
        })
        out = ph.assign_funnel_significance(df, "x", "rate", denom_col="n", rate="r",
                                            rate_type=case["rate_type"], multiplier=int(case["multiplier"]))
    return {"significance": [str(s) for s in out["significance"]]}


def funnel_limits(case):
    statistic = case["statistic"]
    points = case["points"]
    if statistic == "proportion":
        df = pd.DataFrame({"x": [p["numerator"] for p in points], "n": [p["denominator"] for p in points]})
        t = ph.calculate_funnel_limits(df, "x", "proportion", int(case["multiplier"]), denom_col="n", metadata=False)
        x, columns = "Population", ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"]
        denominators = [x] * 4
    elif statistic == "ratio":
        df = pd.DataFrame({"x": [p["observed"] for p in points], "n": [p["expected"] for p in points]})
        t = ph.calculate_funnel_limits(df, "x", "ratio", 1, denom_col="n", metadata=False, ratio_type="isr")
        x, columns = "Observed_events", ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"]
        denominators = ["lower_2s_exp_events", "upper_2s_exp_events", "lower_3s_exp_events", "upper_3s_exp_events"]
    else:
        df = pd.DataFrame({"x": [p["events"] for p in points], "r": [p["rate"] for p in points]})
        t = ph.calculate_funnel_limits(df, "x", "rate", int(case["multiplier"]), metadata=False, rate="r",
                                       rate_type=case["rate_type"], years_of_data=int(case["years"]))
        x, columns = "Events", ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"]
        denominators = ["lower_2s_population_1_year", "upper_2s_population_1_year",
                        "lower_3s_population_1_year", "upper_3s_population_1_year"]
    return {
        "at": [number(v) for v in t[x]],
        "limits": [[number(v) for v in t[c]] for c in columns],
        "denominators": [[number(v) for v in t[c]] for c in denominators],
        "baseline": number(t["baseline"].iloc[0]) if "baseline" in t.columns else None,
    }


KINDS = {
    "proportion": proportion,
    "rate": rate,
    "dsr": dsr,
    "isr": isr,
    "mean": mean,
    "funnel_significance": funnel_significance,
    "funnel_limits": funnel_limits,
}


def main():
    cases = json.load(sys.stdin)["cases"]
    results = []
    for case in cases:
        try:
            results.append({"ok": KINDS[case["kind"]](case)})
        except Exception as e:  # the package refuses the case: report it, as a value
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"results": results}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
