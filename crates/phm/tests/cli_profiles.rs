//! `phm profiles` end to end on a small synthetic BLMK drop: every area is there, every figure
//! written obeys the disclosure policy it was released under, trends end at the profile and
//! carry the SPC that `phm_stats::spc` gives their values, the population pyramid adds up to
//! the registered population, and several policies are released from one computation. The
//! checks read the CSV files back, so they check what a reader gets, not what the code meant
//! to write.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use phm_disclosure::{Policy, PublishedTable, audit_published};

fn phm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).current_dir(repo("")).output().expect("phm runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo(rel: &str) -> String {
    format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))
}

type Row = BTreeMap<String, String>;

fn read(path: &str) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            headers.iter().zip(rec.expect("a record").iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

fn count(row: &Row, col: &str) -> Option<u64> {
    let v = &row[col];
    if v.is_empty() { None } else { Some(v.parse().unwrap_or_else(|_| panic!("{col} = {v:?} is not a count"))) }
}

fn number(row: &Row, col: &str) -> Option<f64> {
    let v = &row[col];
    if v.is_empty() { None } else { Some(v.parse().unwrap_or_else(|_| panic!("{col} = {v:?} is not a number"))) }
}

/// The published figures of one indicator, with the groups a reader could subtract, for
/// `phm_disclosure::audit_published`.
fn published(rows: &[&Row]) -> PublishedTable<String> {
    let derived = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"];
    let mut t = PublishedTable::new(&["numerator", "denominator"], &derived).expect("table");
    if rows.first().is_some_and(|r| r["method"] == "proportion") {
        t.proportion("numerator", "denominator").expect("proportion");
    }
    let key =
        |r: &Row| format!("{} {} {} {}={}", r["period"], r["area_type"], r["area_code"], r["breakdown"], r["category"]);
    let mut index = BTreeMap::new();
    for r in rows {
        let i = t
            .push(key(r), &[count(r, "numerator"), count(r, "denominator")], &derived.map(|d| number(r, d)))
            .expect("push");
        index.insert(key(r), i);
    }
    // An area's categories add up to its `all` row; places and neighbourhoods to the ICS.
    let mut by_area: BTreeMap<(String, String, String, String), Vec<usize>> = BTreeMap::new();
    let mut by_category: BTreeMap<(String, String, String, String), Vec<usize>> = BTreeMap::new();
    let ics = rows.iter().find(|r| r["area_type"] == "ics").map(|r| r["area_code"].clone()).expect("an ICS row");
    for r in rows {
        let i = index[&key(r)];
        if r["breakdown"] != "all" {
            by_area
                .entry((r["period"].clone(), r["area_type"].clone(), r["area_code"].clone(), r["breakdown"].clone()))
                .or_default()
                .push(i);
        }
        if r["area_type"] != "ics" {
            by_category
                .entry((r["period"].clone(), r["area_type"].clone(), r["breakdown"].clone(), r["category"].clone()))
                .or_default()
                .push(i);
        }
    }
    for ((period, area_type, area, _), parts) in by_area {
        if let Some(&total) = index.get(&format!("{period} {area_type} {area} all=all")) {
            t.group(total, &parts).expect("group");
        }
    }
    for ((period, _, breakdown, category), parts) in by_category {
        if let Some(&total) = index.get(&format!("{period} ics {ics} {breakdown}={category}")) {
            t.group(total, &parts).expect("group");
        }
    }
    t
}

/// Checks one policy's `profiles.csv`: every area is there and every figure obeys the policy.
fn check_profiles(rows: &[Row], policy: &Policy) {
    // The ICS, its four places and neighbourhoods in every place.
    let areas: BTreeSet<(&str, &str)> =
        rows.iter().map(|r| (r["area_type"].as_str(), r["area_code"].as_str())).collect();
    assert!(areas.contains(&("ics", "E54000024")));
    for place in ["E06000055", "E06000056", "E06000032", "E06000042"] {
        assert!(areas.contains(&("place", place)), "{place} missing");
    }
    assert!(areas.iter().filter(|(t, _)| *t == "neighbourhood").count() >= 20);

    // Every figure obeys the policy, read back from the file.
    let mut by_indicator: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_indicator.entry(r["indicator"].as_str()).or_default().push(r);
    }
    assert!(by_indicator.len() >= 30, "{} indicators", by_indicator.len());
    for (name, rows) in &by_indicator {
        let violations = audit_published(policy, &published(rows));
        assert!(
            violations.is_empty(),
            "{name}: {}",
            violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );
    }
    // And a value is never shown beside a withheld count.
    for r in rows {
        if r["numerator"].is_empty() || r["denominator"].is_empty() {
            assert!(r["value"].is_empty() && r["lower_95"].is_empty(), "a value beside a suppressed count: {r:?}");
        }
    }
}

#[test]
fn profiles_of_a_small_drop() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path().display().to_string();
    let (ok, _, err) =
        phm(&["synth", "--population", "3000", "--seed", "11", "--out", &format!("{t}/drop"), "--quiet"]);
    assert!(ok, "{err}");
    let store = format!("{t}/store");
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--manifest", &format!("{t}/drop/manifest.json"), "--quiet"]);
    assert!(ok, "{err}");
    one_policy_writes_profiles_and_population_to_the_output_folder(&store, &format!("{t}/one"));
    two_policies_release_one_computation_with_trends_and_population(&store, &format!("{t}/two"));
}

fn one_policy_writes_profiles_and_population_to_the_output_folder(store: &str, out: &str) {
    let (ok, stdout, err) =
        phm(&["profiles", "--store", store, "--out", out, "--policy", "analyst", "--trend-points", "0", "--quiet"]);
    assert!(ok, "{err}");
    assert!(stdout.contains("Policy `analyst`") && stdout.contains("no trends"), "{stdout}");
    check_profiles(&read(&format!("{out}/profiles.csv")), &Policy::builtin("analyst").expect("policy"));
    // No trends were asked for: the table is there, with its columns and no rows.
    let trends = std::fs::read_to_string(format!("{out}/trends.csv")).expect("trends.csv");
    assert!(trends.starts_with("indicator,title,method,polarity,period,area_type,area_code,area_name,numerator,denominator,value,lower_95,upper_95,reason,disclosure,mean,lower_process_limit,upper_process_limit,special_cause"), "{trends}");
    assert_eq!(trends.lines().count(), 1);
    assert!(!read(&format!("{out}/population.csv")).is_empty());
    assert!(!std::path::Path::new(&format!("{out}/analyst")).exists());
}

fn two_policies_release_one_computation_with_trends_and_population(store: &str, out: &str) {
    let (ok, stdout, err) = phm(&[
        "profiles",
        "--store",
        store,
        "--out",
        out,
        "--policy",
        "public",
        "--policy",
        "analyst",
        "--trend-points",
        "15",
        "--trend-every-months",
        "3",
        "--quiet",
    ]);
    assert!(ok, "{err}");
    for name in ["public", "analyst"] {
        let dir = format!("{out}/{name}");
        assert!(stdout.contains(&format!("Policy `{name}`")), "{stdout}");
        let policy = Policy::builtin(name).expect("policy");
        let provenance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/provenance.json")).expect("provenance"))
                .expect("json");
        assert_eq!(provenance["policy"], name);
        assert!(std::path::Path::new(&format!("{dir}/framework.json")).exists());
        let profiles = read(&format!("{dir}/profiles.csv"));
        check_profiles(&profiles, &policy);
        check_trends(&profiles, &read(&format!("{dir}/trends.csv")), &policy);
        check_population(&profiles, &read(&format!("{dir}/population.csv")), &policy);
    }
    assert!(
        !std::path::Path::new(&format!("{out}/profiles.csv")).exists(),
        "with two policies nothing goes to the top folder"
    );
    let public = read(&format!("{out}/public/profiles.csv"));
    let analyst = read(&format!("{out}/analyst/profiles.csv"));
    inversion_attack_recovers_no_exact_count(&public, &analyst, &Policy::builtin("public").expect("policy"));
    // The same attack on the trend points, which carry no multiplier or breakdown of their own.
    let multipliers: BTreeMap<String, String> =
        public.iter().map(|r| (r["indicator"].clone(), r["multiplier"].clone())).collect();
    let as_rows = |file: &str| -> Vec<Row> {
        let mut rows = read(file);
        for r in &mut rows {
            let m = multipliers[&r["indicator"]].clone();
            r.extend([
                ("multiplier".to_owned(), m),
                ("breakdown".to_owned(), "all".to_owned()),
                ("category".to_owned(), "all".to_owned()),
            ]);
        }
        rows
    };
    inversion_attack_recovers_no_exact_count(
        &as_rows(&format!("{out}/public/trends.csv")),
        &as_rows(&format!("{out}/analyst/trends.csv")),
        &Policy::builtin("public").expect("policy"),
    );
    sii_is_computed_from_published_deciles_only(&public);
    sii_is_computed_from_published_deciles_only(&analyst);
}

/// The inversion attack on the public release: for a proportion, rate or count shown beside
/// rounded counts, keep the numerator–denominator pairs the rounding could have come from whose
/// ratio is the published value. The analyst release of the same computation holds the exact
/// counts (unrounded), so the test knows when the attack is right: it must never single out an
/// exact pair that the public release did not publish.
fn inversion_attack_recovers_no_exact_count(public: &[Row], analyst: &[Row], policy: &Policy) {
    let key = |r: &Row| {
        (
            r["indicator"].clone(),
            r["period"].clone(),
            r["area_type"].clone(),
            r["area_code"].clone(),
            r["breakdown"].clone(),
            r["category"].clone(),
        )
    };
    let exact: BTreeMap<_, &Row> = analyst.iter().map(|r| (key(r), r)).collect();
    let rounding = policy.rounding();
    let bucket = |published: u64| -> Vec<u64> {
        (published.saturating_sub(10)..=published + 10).filter(|&x| rounding.apply(x) == published).collect()
    };
    let (mut attacked, mut hidden) = (0, 0);
    for r in public {
        let method = r["method"].as_str();
        if !["proportion", "crude_rate"].contains(&method) {
            continue;
        }
        let (Some(n), Some(d), Some(v)) = (count(r, "numerator"), count(r, "denominator"), number(r, "value")) else {
            continue;
        };
        let Some(a) = exact.get(&key(r)) else { continue };
        let (Some(en), Some(ed)) = (count(a, "numerator"), count(a, "denominator")) else { continue };
        let m = number(r, "multiplier").expect("a multiplier");
        let mut found = Vec::new();
        for cd in bucket(d).into_iter().filter(|&x| x > 0) {
            for cn in bucket(n).into_iter().filter(|&x| method != "proportion" || x <= cd) {
                let candidate = cn as f64 / cd as f64 * m;
                if (candidate - v).abs() <= 1e-12 * v.abs().max(1e-300) {
                    found.push((cn, cd));
                }
            }
        }
        attacked += 1;
        if (en, ed) != (n, d) {
            hidden += 1;
            assert!(
                found != [(en, ed)],
                "{key:?}: the value gives back the exact counts {en}/{ed} behind the published {n}/{d}",
                key = key(r)
            );
        }
        assert!(found.contains(&(n, d)), "{:?}: the value {v} is not the published counts' ratio {n}/{d}", key(r));
    }
    assert!(
        attacked > 500 && hidden > 300,
        "the attack ran on {attacked} rows, {hidden} with counts changed by rounding"
    );
}

/// Every published SII stands on published decile rows only: an area with an SII has every
/// decile's counts and value published, its SII is what `phm_stats::sii` gives those published
/// figures, and an area with a suppressed decile has no SII.
fn sii_is_computed_from_published_deciles_only(rows: &[Row]) {
    use phm_stats::sii::{QuantileInput, SiiOptions, Uncertainty, Value, ValueType};
    let mut deciles: BTreeMap<(&str, &str, &str, &str), Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["breakdown"] == "imd_decile") {
        deciles
            .entry((r["indicator"].as_str(), r["period"].as_str(), r["area_type"].as_str(), r["area_code"].as_str()))
            .or_default()
            .push(r);
    }
    let (mut checked, mut withheld) = (0, 0);
    for r in rows.iter().filter(|r| r["breakdown"] == "all") {
        let ds = deciles.get(&(
            r["indicator"].as_str(),
            r["period"].as_str(),
            r["area_type"].as_str(),
            r["area_code"].as_str(),
        ));
        let Some(sii) = number(r, "sii") else {
            if ds.is_some_and(|ds| ds.iter().any(|d| d["numerator"].is_empty() || d["denominator"].is_empty())) {
                withheld += 1;
            }
            continue;
        };
        let mut ds = ds.unwrap_or_else(|| panic!("an SII with no decile rows published: {r:?}")).clone();
        // Decile 1 (most deprived) first: the SII's ranks follow the deciles' order.
        ds.sort_by_key(|d| d["category"].parse::<u8>().expect("a decile"));
        let (value_type, scale) = match r["method"].as_str() {
            "proportion" => (ValueType::Proportion, number(r, "multiplier").expect("multiplier")),
            "crude_rate" | "dsr" | "isr" => (ValueType::Rate, 1.0),
            _ => (ValueType::Other, 1.0),
        };
        let mut inputs = Vec::new();
        for d in &ds {
            let population =
                count(d, "denominator").unwrap_or_else(|| panic!("an SII beside a suppressed decile: {d:?}")) as f64;
            let value = number(d, "value").expect("a decile value");
            let (lower, upper) = (number(d, "lower_95").expect("limit"), number(d, "upper_95").expect("limit"));
            let uncertainty = if value_type == ValueType::Other {
                Uncertainty::StandardError((upper - lower) / (2.0 * 1.959_963_984_540_054))
            } else {
                Uncertainty::Limits95 { lower: lower / scale, upper: upper / scale }
            };
            inputs.push(QuantileInput::new(population, Value::Given(value / scale), uncertainty));
        }
        let options = SiiOptions::new(value_type)
            .multiplier(scale)
            .and_then(|o| o.quantiles(inputs.len().max(phm_stats::sii::MIN_QUANTILES)))
            .and_then(|o| o.repetitions(phm_profiles::inequality::REPETITIONS))
            .expect("options");
        let again = phm_stats::sii::sii(&inputs, &options).expect("an SII").sii;
        assert!(
            (again - sii).abs() <= 1e-9 * sii.abs().max(1.0),
            "{}: published SII {sii}, from the published deciles {again}",
            r["indicator"]
        );
        checked += 1;
    }
    // A 3,000-person drop has a suppressed decile in most areas, so most SIIs are withheld;
    // the ICS's are published.
    assert!(checked >= 1 && withheld >= 1, "{checked} SIIs checked, {withheld} withheld");
}

/// Trends: 15 quarterly points per series ending at the profile's own row, released like the
/// profile, with the SPC that phm-stats gives the released values.
fn check_trends(profiles: &[Row], trends: &[Row], policy: &Policy) {
    let all_rows: BTreeMap<(&str, &str, &str), &Row> = profiles
        .iter()
        .filter(|r| r["breakdown"] == "all")
        .map(|r| ((r["indicator"].as_str(), r["area_type"].as_str(), r["area_code"].as_str()), r))
        .collect();
    let mut series: BTreeMap<(&str, &str, &str), Vec<&Row>> = BTreeMap::new();
    for r in trends {
        series.entry((r["indicator"].as_str(), r["area_type"].as_str(), r["area_code"].as_str())).or_default().push(r);
    }
    // One series per area an indicator covers, and no other.
    assert_eq!(series.keys().collect::<BTreeSet<_>>(), all_rows.keys().collect::<BTreeSet<_>>());
    let mut charted = 0;
    for (key, points) in &series {
        assert_eq!(points.len(), 15, "{key:?}");
        // Quarter ends in time order, the last the profile's index date.
        let periods: Vec<chrono::NaiveDate> = points.iter().map(|r| r["period"].parse().expect("a date")).collect();
        assert!(
            periods.windows(2).all(|w| w[0] < w[1] && (w[1] - w[0]).num_days() >= 89 && (w[1] - w[0]).num_days() <= 92),
            "{key:?}: {periods:?}"
        );
        let last = points[14];
        let own = all_rows[key];
        for col in ["period", "numerator", "denominator", "value", "lower_95", "upper_95", "disclosure"] {
            assert_eq!(last[col], own[col], "{key:?}: the last point's {col} is the profile's");
        }
        for r in points {
            assert_eq!(r["assurance_icon"], "no_target", "definitions carry no targets");
            if r["numerator"].is_empty() || r["denominator"].is_empty() {
                assert!(r["value"].is_empty(), "a value beside a suppressed count: {r:?}");
            }
        }
        charted += usize::from(check_spc(key, points));
    }
    assert!(charted >= 100, "only {charted} series have process limits");

    // Every point obeys the policy, with places and neighbourhoods adding up to the ICS.
    let mut by_indicator: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in trends {
        by_indicator.entry(r["indicator"].as_str()).or_default().push(r);
    }
    for (name, rows) in by_indicator {
        let mut rows: Vec<Row> = rows
            .into_iter()
            .filter(|r| !r["disclosure"].is_empty() && r["disclosure"] != "no count")
            .cloned()
            .collect();
        for r in &mut rows {
            r.insert("breakdown".into(), "all".into());
            r.insert("category".into(), "all".into());
            r.insert("lower_99_8".into(), String::new());
            r.insert("upper_99_8".into(), String::new());
        }
        let refs: Vec<&Row> = rows.iter().collect();
        let violations = audit_published(policy, &published(&refs));
        assert!(
            violations.is_empty(),
            "trends of {name}: {}",
            violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );
    }
}

/// The SPC columns of one series are those `phm_stats::spc::xmr` gives its points, gaps and all
/// (with its default options), or empty with a reason; returns whether it is charted.
fn check_spc(key: &(&str, &str, &str), points: &[&Row]) -> bool {
    let values: Vec<Option<f64>> = points.iter().map(|r| number(r, "value")).collect();
    if values.iter().flatten().count() < phm_stats::spc::MIN_POINTS_FOR_LIMITS {
        assert!(
            points.iter().all(|r| r["mean"].is_empty()
                && r["variation_icon"].is_empty()
                && r["spc_reason"].contains("Making Data Count asks for at least 15")),
            "{key:?}"
        );
        return false;
    }
    let polarity = match points[0]["polarity"].as_str() {
        "higher_is_better" => phm_stats::spc::Polarity::HigherIsBetter,
        "lower_is_better" => phm_stats::spc::Polarity::LowerIsBetter,
        _ => phm_stats::spc::Polarity::Neither,
    };
    let chart = phm_stats::spc::xmr(&values, &phm_stats::spc::SpcOptions::new(polarity)).expect("a chart");
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    };
    for (r, p) in points.iter().zip(&chart.points) {
        if p.value.is_none() {
            assert!(
                r["mean"].is_empty() && r["special_cause"].is_empty(),
                "{key:?} {}: a gap is not charted",
                r["period"]
            );
            continue;
        }
        assert!(close(number(r, "mean"), Some(p.mean)), "{key:?} {}: mean", r["period"]);
        assert!(close(number(r, "lower_process_limit"), p.lower_limit), "{key:?} {}: lower limit", r["period"]);
        assert!(close(number(r, "upper_process_limit"), p.upper_limit), "{key:?} {}: upper limit", r["period"]);
        let rules = [
            (p.rules.beyond_limit, "astronomical"),
            (p.rules.shift, "shift"),
            (p.rules.trend, "trend"),
            (p.rules.two_of_three, "two_of_three"),
        ];
        let want: Vec<&str> = rules.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
        assert_eq!(r["special_cause"], want.join(";"), "{key:?} {}", r["period"]);
    }
    let icon = chart.variation.map(|v| v.icon()).unwrap_or("");
    assert_eq!(points[0]["variation_icon"], icon, "{key:?}");
    assert!(points.iter().all(|r| r["variation_icon"] == points[0]["variation_icon"]), "{key:?}: one icon per series");
    true
}

/// The population pyramid: every count obeys the policy (groups: bands to a sex's total, sexes
/// to a band's total, places and neighbourhoods to the ICS), and the ICS's registered
/// population is the denominator of the indicators counted over all of it.
fn check_population(profiles: &[Row], population: &[Row], policy: &Policy) {
    let mut t = PublishedTable::new(&["count"], &[]).expect("table");
    let key = |r: &Row| format!("{} {} {} {} {}", r["period"], r["area_type"], r["area_code"], r["sex"], r["age_band"]);
    let mut index = BTreeMap::new();
    for r in population {
        let i = t.push(key(r), &[count(r, "count")], &[]).expect("push");
        assert!(index.insert(key(r), i).is_none(), "{} twice", key(r));
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in population {
        let (p, at, a, s, b) = (&r["period"], &r["area_type"], &r["area_code"], &r["sex"], &r["age_band"]);
        if b != "all" {
            groups.entry(format!("{p} {at} {a} {s} all")).or_default().push(index[&key(r)]);
        }
        if s != "all" {
            groups.entry(format!("{p} {at} {a} all {b}")).or_default().push(index[&key(r)]);
        }
    }
    for (total, parts) in &groups {
        t.group(index[total], parts).expect("group");
    }
    let ics = "E54000024";
    for area_type in ["place", "neighbourhood"] {
        let mut by_cell: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for r in population.iter().filter(|r| r["area_type"] == area_type) {
            by_cell
                .entry(format!("{} ics {ics} {} {}", r["period"], r["sex"], r["age_band"]))
                .or_default()
                .push(index[&key(r)]);
        }
        for (total, parts) in &by_cell {
            t.group(index[total], parts).expect("group");
        }
    }
    let violations = audit_published(policy, &t);
    assert!(
        violations.is_empty(),
        "population: {}",
        violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    if policy.name() == "public" {
        assert!(
            population.iter().filter_map(|r| count(r, "count")).all(|n| n % 5 == 0),
            "public counts are multiples of 5"
        );
    }
    // Every band of ESP2013 and `not recorded` for each sex, and `all`.
    let bands: BTreeSet<&str> = population.iter().map(|r| r["age_band"].as_str()).collect();
    assert_eq!(bands.len(), 19 + 2, "{bands:?}");
    assert!(bands.contains("90+") && bands.contains("not recorded") && bands.contains("all"));
    // The ICS's registered population on 31 March 2026 is the denominator of the dementia
    // prevalence, whose denominator is `in_population` (released alike: the same count).
    let total = population
        .iter()
        .find(|r| r["period"] == "2026-03-31" && r["area_type"] == "ics" && r["sex"] == "all" && r["age_band"] == "all")
        .expect("ICS total");
    let dementia = profiles
        .iter()
        .find(|r| r["indicator"] == "dementia_prevalence" && r["area_type"] == "ics" && r["breakdown"] == "all")
        .expect("dementia");
    assert_eq!(total["count"], dementia["denominator"]);
    let people: u64 = count(total, "count").expect("a count");
    assert!((2500..=3200).contains(&people), "{people} registered people of 3,000");
    // Under the analyst policy nothing in the ICS's row is rounded, so its sexes add up.
    if policy.name() == "analyst" {
        let sexes: u64 = population
            .iter()
            .filter(|r| {
                r["period"] == "2026-03-31" && r["area_type"] == "ics" && r["sex"] != "all" && r["age_band"] == "all"
            })
            .map(|r| count(r, "count").expect("ICS counts are large"))
            .sum();
        assert_eq!(sexes, people);
    }
}
