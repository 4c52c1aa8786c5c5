//! Linkage: one person from many sources.
//!
//! Every source contributes one `person_source` row per person it knows (keyed by the
//! pseudonym of the NHS number, so the same person from a GP, an acute trust and a council is
//! already one key). This module resolves those rows into `person`, by a rule written down in
//! ARCHITECTURE.md ("Linkage") and counted here:
//!
//! 1. **Primary record.** The GP source of the practice the person is currently registered
//!    with (the latest `registration` with no end, else the latest start); failing that, the
//!    GP source with the latest extract; failing that, any source with the latest extract
//!    (ties broken by source name, so the result does not depend on load order).
//! 2. **Demographics** (year and month of birth, sex, area) come from the primary record; a
//!    field it leaves empty is taken from the next record in the same order.
//! 3. **Ethnic category**: the primary record's if stated, else the next stated one (a "not
//!    stated" never overrides a stated category).
//! 4. **Practice**: that of the latest registration, else the primary record's.
//! 5. **Death**: recorded by any source counts; the primary record's date wins, else the
//!    earliest date recorded.
//! 6. **National data opt-out**: on the opt-out list held in the store.
//!
//! A conflict is a field on which two sources' non-empty values differ; conflicts are counted
//! per field and reported with the snapshot.
//!
//! **One NHS number, two people.** A mistyped or shared NHS number must not merge two people
//! silently. When a source is loaded, each record of a person it brings is compared with the
//! records other sources already hold under the same NHS number ([`HeldClaims`]): if its sex
//! (female/male) *and* its year or month of birth both differ from every one of them, it is
//! kept apart under a pseudonym of its own ([`conflict_pseudonym`], not linked), counted in the
//! file's report (`identity_conflicts`) and in the snapshot's linkage summary
//! (`identity_conflicts_kept_apart`). The record held first keeps the number. Two sources
//! that differ on both but are bridged by a third that agrees with each on one are merged, and
//! counted as `sex_and_birth_disagreements`.

use std::collections::{BTreeMap, HashMap, HashSet};

use arrow_array::{Array as _, BooleanArray, Date32Array, Int16Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use phm_core::ethnicity::EthnicCategory;
use phm_core::schema::PERSON;
use phm_store::batch::from_date32;
use phm_store::{BatchBuilder, Transaction, Tree};
use serde::Serialize;

use crate::{Result, string_column};

/// What linkage found, reported with each snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Linkage {
    /// People in `person`.
    pub people: u64,
    /// People known to two or more sources.
    pub linked_across_sources: u64,
    /// People known only by a source-local identifier (no NHS number).
    pub unlinkable_local_ids: u64,
    /// People with no GP record in the store.
    pub without_gp_record: u64,
    /// People no source gives a year of birth for.
    pub without_year_of_birth: u64,
    /// Per source kind: people it holds, and the share of them also found in a GP record.
    pub found_in_gp_by_source_type: BTreeMap<String, String>,
    /// Fields on which sources disagree, by field.
    pub conflicts: BTreeMap<String, u64>,
    /// Records kept apart at ingest because their sex and birth both differ from every other
    /// source's record under the same NHS number (summed from the ingest reports).
    pub identity_conflicts_kept_apart: u64,
    /// People linked under one NHS number whose sources include two that differ on both sex and
    /// year or month of birth (each agreeing with a third on one of them).
    pub sex_and_birth_disagreements: u64,
    /// People on the opt-out list who are in `person`.
    pub opted_out: u64,
    /// Opt-out entries for people no source holds.
    pub opt_outs_unmatched: u64,
}

struct Claim {
    source: String,
    source_type: String,
    source_org: String,
    linked: bool,
    year: Option<i16>,
    month: Option<i16>,
    sex: Option<String>,
    ethnic: Option<String>,
    area: Option<String>,
    practice: Option<String>,
    death: Option<NaiveDate>,
    extract: Option<NaiveDate>,
}

fn col<'a, A: 'static>(batch: &'a RecordBatch, name: &str) -> Option<&'a A> {
    batch.column_by_name(name)?.as_any().downcast_ref::<A>()
}

fn text(a: &StringArray, i: usize) -> Option<String> {
    a.is_valid(i).then(|| a.value(i).to_owned())
}

/// Builds `person` from every source's `person_source` rows, registrations and the opt-out
/// list as the transaction will commit them, and sets it as the derived table.
pub fn resolve(tx: &mut Transaction) -> Result<Linkage> {
    let mut claims: HashMap<String, Vec<Claim>> = HashMap::new();
    for path in tx.table_paths(Tree::Analytical, "person_source") {
        for b in phm_store::read_parquet(&path)? {
            let (Some(pid), Some(src), Some(st), Some(org)) = (
                string_column(&b, "person_id"),
                string_column(&b, "source"),
                string_column(&b, "source_type"),
                string_column(&b, "source_org"),
            ) else {
                continue;
            };
            let (
                Some(linked),
                Some(year),
                Some(month),
                Some(sex),
                Some(eth),
                Some(area),
                Some(prac),
                Some(death),
                Some(extract),
            ) = (
                col::<BooleanArray>(&b, "linked"),
                col::<Int16Array>(&b, "year_of_birth"),
                col::<Int16Array>(&b, "month_of_birth"),
                string_column(&b, "sex"),
                string_column(&b, "ethnic_category"),
                string_column(&b, "area_code"),
                string_column(&b, "practice_code"),
                col::<Date32Array>(&b, "date_of_death"),
                col::<Date32Array>(&b, "extract_date"),
            )
            else {
                continue;
            };
            for i in 0..b.num_rows() {
                claims.entry(pid.value(i).to_owned()).or_default().push(Claim {
                    source: src.value(i).to_owned(),
                    source_type: st.value(i).to_owned(),
                    source_org: org.value(i).to_owned(),
                    linked: linked.value(i),
                    year: year.is_valid(i).then(|| year.value(i)),
                    month: month.is_valid(i).then(|| month.value(i)),
                    sex: text(sex, i).filter(|s| s != "unknown"),
                    ethnic: text(eth, i),
                    area: text(area, i),
                    practice: text(prac, i),
                    death: death.is_valid(i).then(|| from_date32(death.value(i))).flatten(),
                    extract: extract.is_valid(i).then(|| from_date32(extract.value(i))).flatten(),
                });
            }
        }
    }
    // Latest registration per person: open ones first, then by start date.
    let mut registration: HashMap<String, (bool, i32, String)> = HashMap::new();
    for path in tx.table_paths(Tree::Analytical, "registration") {
        for b in phm_store::read_parquet(&path)? {
            let (Some(pid), Some(prac), Some(start), Some(end)) = (
                string_column(&b, "person_id"),
                string_column(&b, "practice_code"),
                col::<Date32Array>(&b, "start_date"),
                col::<Date32Array>(&b, "end_date"),
            ) else {
                continue;
            };
            for i in 0..b.num_rows() {
                let candidate = (end.is_null(i), start.value(i), prac.value(i).to_owned());
                let e = registration.entry(pid.value(i).to_owned()).or_insert_with(|| candidate.clone());
                if (candidate.0, candidate.1) > (e.0, e.1) {
                    *e = candidate;
                }
            }
        }
    }
    let mut opt_out: HashSet<String> = HashSet::new();
    for path in tx.table_paths(Tree::Analytical, "opt_out") {
        for b in phm_store::read_parquet(&path)? {
            if let Some(pid) = string_column(&b, "person_id") {
                opt_out.extend((0..b.num_rows()).map(|i| pid.value(i).to_owned()));
            }
        }
    }

    let mut stats = Linkage::default();
    let mut by_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut ids: Vec<&String> = claims.keys().collect();
    ids.sort_unstable();
    let mut builder = BatchBuilder::new(&PERSON);
    let mut writer = tx.create_parquet(Tree::Analytical, &PERSON, "derived")?;
    for pid in ids {
        let mut cs: Vec<&Claim> = claims[pid].iter().collect();
        let reg = registration.get(pid);
        let current_practice = reg.map(|r| r.2.as_str());
        // Priority order: the current practice's GP record, other GP records, then the rest;
        // within each, latest extract first, then source name.
        cs.sort_by(|a, b| {
            let rank = |c: &Claim| {
                (
                    c.source_type != "gp_practice" || Some(c.source_org.as_str()) != current_practice,
                    c.source_type != "gp_practice",
                )
            };
            rank(a).cmp(&rank(b)).then(b.extract.cmp(&a.extract)).then(a.source.cmp(&b.source))
        });
        let first = |f: &dyn Fn(&Claim) -> bool| cs.iter().position(|c| f(c));
        let year = first(&|c| c.year.is_some()).and_then(|i| cs[i].year);
        stats.people += 1;
        stats.without_year_of_birth += u64::from(year.is_none());
        let sources: HashSet<&str> = cs.iter().map(|c| c.source.as_str()).collect();
        if sources.len() > 1 {
            stats.linked_across_sources += 1;
        }
        if cs.iter().all(|c| !c.linked) {
            stats.unlinkable_local_ids += 1;
        }
        let has_gp = cs.iter().any(|c| c.source_type == "gp_practice");
        if !has_gp {
            stats.without_gp_record += 1;
        }
        let types: HashSet<&str> = cs.iter().map(|c| c.source_type.as_str()).collect();
        for t in types {
            let e = by_type.entry(t.to_owned()).or_default();
            e.0 += 1;
            e.1 += u64::from(has_gp);
        }
        let mut conflict = |field: &str, values: Vec<String>| {
            let distinct: HashSet<&String> = values.iter().collect();
            if distinct.len() > 1 {
                *stats.conflicts.entry(field.to_owned()).or_default() += 1;
            }
        };
        let known: Vec<Demographics> = cs
            .iter()
            .filter(|c| c.linked)
            .filter_map(|c| Demographics::new(c.sex.as_deref(), c.year, c.month))
            .collect();
        if known.iter().enumerate().any(|(i, a)| known[i + 1..].iter().any(|b| a.differs(b))) {
            stats.sex_and_birth_disagreements += 1;
        }
        conflict("year_of_birth", cs.iter().filter_map(|c| c.year.map(|v| v.to_string())).collect());
        conflict("month_of_birth", cs.iter().filter_map(|c| c.month.map(|v| v.to_string())).collect());
        conflict("sex", cs.iter().filter_map(|c| c.sex.clone()).collect());
        conflict("ethnic_category", cs.iter().filter_map(|c| c.ethnic.clone()).collect());
        conflict("area_code", cs.iter().filter_map(|c| c.area.clone()).collect());
        conflict("date_of_death", cs.iter().filter_map(|c| c.death.map(|d| d.to_string())).collect());
        let month = first(&|c| c.month.is_some()).and_then(|i| cs[i].month);
        let sex = first(&|c| c.sex.is_some()).and_then(|i| cs[i].sex.clone()).unwrap_or_else(|| "unknown".to_owned());
        let ethnic = first(&|c| c.ethnic.as_deref().and_then(EthnicCategory::from_code).is_some())
            .and_then(|i| cs[i].ethnic.as_deref())
            .and_then(EthnicCategory::from_code);
        let area = first(&|c| c.area.is_some()).and_then(|i| cs[i].area.clone());
        let practice = current_practice
            .map(str::to_owned)
            .or_else(|| first(&|c| c.practice.is_some()).and_then(|i| cs[i].practice.clone()));
        let death = cs.first().and_then(|c| c.death).or_else(|| cs.iter().filter_map(|c| c.death).min());
        let opted = opt_out.contains(pid.as_str());
        stats.opted_out += u64::from(opted);
        builder
            .push_text(Some(pid))
            .push_small(year)
            .push_small(month)
            .push_text(Some(&sex))
            .push_text(ethnic.map(EthnicCategory::code))
            .push_text(ethnic.map(|e| e.group5().name()))
            .push_text(area.as_deref())
            .push_text(practice.as_deref())
            .push_date(death)
            .push_bool(Some(opted))
            .push_bool(Some(false))
            .end_row();
        if builder.len() >= 65_536 {
            writer.write(&builder.finish()?)?;
        }
    }
    if !builder.is_empty() {
        writer.write(&builder.finish()?)?;
    }
    stats.opt_outs_unmatched = opt_out.iter().filter(|p| !claims.contains_key(*p)).count() as u64;
    for (t, (n, gp)) in by_type {
        stats
            .found_in_gp_by_source_type
            .insert(t, format!("{gp} of {n} ({:.1}%)", if n > 0 { 100.0 * gp as f64 / n as f64 } else { 0.0 }));
    }
    let entry = writer.finish()?;
    tx.set_derived(vec![entry]);
    Ok(stats)
}

/// What a record says about who a person is, when it says enough to compare: sex (female or
/// male) and year of birth, with the month if known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Demographics {
    female: bool,
    year: i16,
    month: Option<i16>,
}

impl Demographics {
    /// `None` unless the sex is female or male and the year of birth is known.
    pub(crate) fn new(sex: Option<&str>, year: Option<i16>, month: Option<i16>) -> Option<Self> {
        let female = match sex? {
            "female" => true,
            "male" => false,
            _ => return None,
        };
        Some(Self { female, year: year?, month })
    }

    /// Whether the sex differs *and* the birth differs (year, or month when both give one).
    pub(crate) fn differs(&self, other: &Self) -> bool {
        let birth = self.year != other.year || matches!((self.month, other.month), (Some(a), Some(b)) if a != b);
        self.female != other.female && birth
    }
}

/// The records every source holds, by NHS-number pseudonym, to compare a new record with.
#[derive(Default)]
pub(crate) struct HeldClaims {
    sources: HashMap<String, u32>,
    claims: HashMap<u128, Vec<(u32, Demographics)>>,
}

impl HeldClaims {
    /// The linked records of every source the transaction holds now.
    pub(crate) fn read(tx: &Transaction) -> Result<Self> {
        let mut held = Self::default();
        for path in tx.table_paths(Tree::Analytical, "person_source") {
            for b in phm_store::read_parquet(&path)? {
                held.add_batch(&b);
            }
        }
        Ok(held)
    }

    fn source_id(&mut self, source: &str) -> u32 {
        let next = self.sources.len() as u32;
        *self.sources.entry(source.to_owned()).or_insert(next)
    }

    /// Adds the linked records of a `person_source` batch.
    pub(crate) fn add_batch(&mut self, b: &RecordBatch) {
        let (Some(pid), Some(src), Some(linked), Some(sex), Some(year), Some(month)) = (
            string_column(b, "person_id"),
            string_column(b, "source"),
            col::<BooleanArray>(b, "linked"),
            string_column(b, "sex"),
            col::<Int16Array>(b, "year_of_birth"),
            col::<Int16Array>(b, "month_of_birth"),
        ) else {
            return;
        };
        for i in 0..b.num_rows() {
            if !linked.value(i) {
                continue;
            }
            let Some(d) = Demographics::new(
                text(sex, i).as_deref(),
                year.is_valid(i).then(|| year.value(i)),
                month.is_valid(i).then(|| month.value(i)),
            ) else {
                continue;
            };
            let Ok(key) = u128::from_str_radix(pid.value(i), 16) else { continue };
            let s = self.source_id(src.value(i));
            let e = self.claims.entry(key).or_default();
            if !e.contains(&(s, d)) {
                e.push((s, d));
            }
        }
    }

    /// Whether a record of `source` under `pid` must be kept apart: other sources hold records
    /// under the number and its sex and birth differ from every one of them.
    pub(crate) fn conflicts(&self, source: &str, pid: &str, d: &Demographics) -> bool {
        let Ok(key) = u128::from_str_radix(pid, 16) else { return false };
        let Some(held) = self.claims.get(&key) else { return false };
        let me = self.sources.get(source).copied();
        let mut others = held.iter().filter(|(s, _)| Some(*s) != me).peekable();
        others.peek().is_some() && others.all(|(_, h)| d.differs(h))
    }
}

/// The pseudonym of a record kept apart from the person who holds its NHS number: derived from
/// the NHS-number pseudonym, the source and the record's own sex and birth, so that one source's
/// records of the same other person stay together and a reload gives the same pseudonym.
pub(crate) fn conflict_pseudonym(source: &str, pid: &str, d: &Demographics) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(b"phm-ingest identity conflict\0");
    h.update(source.as_bytes());
    h.update([0]);
    h.update(pid.as_bytes());
    h.update(format!("\0{}\0{}\0{:?}", d.female, d.year, d.month).as_bytes());
    hex::encode(&h.finalize()[..16])
}
