//! People: the linked `person` table (checked as a whole, source `*`) and each source's
//! `person_source` rows (demographics as that source holds them, and linkage across sources).

use arrow_array::Array as _;
use chrono::{Datelike as _, NaiveDate};
use phm_core::ethnicity::EthnicCategory;
use phm_core::schema::{PERSON, PERSON_SOURCE, Table};
use phm_store::Tree;
use phm_store::batch::from_date32;

use crate::checks::{Emitter, SourceRef};
use crate::plausible::Sex;
use crate::scan::{KeyMap, KeySet, opt, opt_text, person_key, scan};
use crate::{Ctx, LINKED, Result};

/// Oldest plausible age, at the extract date, of someone not known to have died.
pub(crate) const MAX_AGE: i32 = 115;

/// What the event checks need to know about a person, from the linked `person` table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Person {
    pub year_of_birth: i16,
    /// 1-12; 0 when unknown.
    pub month_of_birth: i8,
    pub sex: Sex,
    /// Date of death as `Date32`.
    pub death: Option<i32>,
}

impl Person {
    /// Whether `date` (as `Date32`) falls before the person's month of birth (or year, when
    /// the month is unknown).
    pub(crate) fn born_after(&self, date: i32) -> bool {
        let Some(d) = from_date32(date) else { return false };
        let (y, m) = (d.year(), d.month() as i32);
        let yob = i32::from(self.year_of_birth);
        y < yob || (y == yob && self.month_of_birth > 0 && m < i32::from(self.month_of_birth))
    }
}

/// Everyone in the linked `person` table.
pub(crate) type People = KeyMap<u128, Person>;

/// The least age someone born in `year` (in `month`, 0 if unknown) can have on `date`.
fn least_age(year: i16, month: i8, date: NaiveDate) -> i32 {
    let age = date.year() - i32::from(year);
    // Born in a later month of the year, the same month (birthday perhaps still to come) or
    // an unknown one: not yet had this year's birthday.
    if month == 0 || i32::from(month) >= date.month() as i32 { age - 1 } else { age }
}

/// Whether someone born in `year` (`month`) is born after `date`.
fn born_after_date(year: i16, month: i8, date: NaiveDate) -> bool {
    let y = i32::from(year);
    y > date.year() || (y == date.year() && month > 0 && i32::from(month) > date.month() as i32)
}

fn required(table: &Table) -> Vec<&'static str> {
    table.columns.iter().filter(|c| !c.nullable).map(|c| c.name).collect()
}

/// Counts of one check: violating of denominator.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    pub bad: u64,
    pub of: u64,
}

impl Tally {
    pub(crate) fn add(&mut self, bad: bool) {
        self.of += 1;
        self.bad += u64::from(bad);
    }
}

/// Reads the linked `person` table into [`People`] and checks it as a whole (source `*`).
pub(crate) fn people(ctx: &Ctx<'_>, emit: &mut Emitter<'_>) -> Result<People> {
    let mut people = People::default();
    let (mut required_null, mut rows, mut duplicate) = (0u64, 0u64, 0u64);
    let (mut sex, mut ethnic, mut area, mut practice) = (0u64, 0u64, 0u64, 0u64);
    let (mut old, mut unborn, mut aged) = (0u64, 0u64, 0u64);
    // The person table has no extract date: use the latest of the sources'.
    let extract = ctx.sources.iter().filter_map(|s| s.extract_date).max();
    let req = required(&PERSON);
    let columns = [
        "person_id",
        "year_of_birth",
        "month_of_birth",
        "sex",
        "ethnic_category",
        "area_code",
        "practice_code",
        "date_of_death",
    ];
    let mut all: Vec<&str> = columns.to_vec();
    all.extend(req.iter().filter(|c| !columns.contains(c)));
    for (path, _) in ctx.snapshot.files(Tree::Analytical, "person") {
        scan(&path, &all, |b| {
            let n = b.len();
            rows += n as u64;
            required_null += b.rows_with_a_null(&req)?;
            let (pid, yob, mob, sx, eth, ar, pr, death) = (
                b.text("person_id")?,
                b.small("year_of_birth")?,
                b.small("month_of_birth")?,
                b.text("sex")?,
                b.text("ethnic_category")?,
                b.text("area_code")?,
                b.text("practice_code")?,
                b.date("date_of_death")?,
            );
            for i in 0..n {
                let s = Sex::from_name(opt_text(sx, i).unwrap_or_default());
                sex += u64::from(s == Sex::Unknown);
                ethnic += u64::from(eth.is_null(i));
                area += u64::from(ar.is_null(i));
                practice += u64::from(pr.is_null(i));
                let Some(id) = opt_text(pid, i) else { continue };
                let Some(year) = opt(yob, i) else { continue };
                let month = opt(mob, i).filter(|m| (1..=12).contains(m)).unwrap_or(0) as i8;
                let died = opt(death, i);
                if let Some(x) = extract {
                    aged += 1;
                    old += u64::from(died.is_none() && least_age(year, month, x) > MAX_AGE);
                    unborn += u64::from(born_after_date(year, month, x));
                }
                let person = Person { year_of_birth: year, month_of_birth: month, sex: s, death: died };
                duplicate += u64::from(people.insert(person_key(id), person).is_some());
            }
            Ok(())
        })?;
    }
    let linked = SourceRef { name: LINKED.to_owned(), source_type: "linked".to_owned() };
    emit.rate("isRequired", &linked, "person", "", required_null, rows, None);
    emit.rate("isPrimaryKey", &linked, "person", "person_id", duplicate, rows, None);
    emit.rate(
        "measureValueCompleteness",
        &linked,
        "person",
        "sex",
        sex,
        rows,
        Some("A sex of `unknown` counts as no value.".to_owned()),
    );
    emit.rate(
        "measureValueCompleteness",
        &linked,
        "person",
        "ethnic_category",
        ethnic,
        rows,
        Some("After linkage: the first stated category of any source.".to_owned()),
    );
    emit.rate("measureValueCompleteness", &linked, "person", "area_code", area, rows, None);
    emit.rate("measureValueCompleteness", &linked, "person", "practice_code", practice, rows, None);
    if let Some(x) = extract {
        emit.rate(
            "plausibleValueHigh",
            &linked,
            "person",
            "year_of_birth",
            old,
            aged,
            Some(format!("Older than {MAX_AGE} on {x} (the latest extract date), with no date of death.")),
        );
        emit.rate(
            "plausibleValueLow",
            &linked,
            "person",
            "year_of_birth",
            unborn,
            aged,
            Some(format!("Born after {x} (the latest extract date).")),
        );
    }
    Ok(people)
}

/// What linkage needs to know about a person across every source's `person_source` rows.
#[derive(Clone, Copy, Debug)]
struct Claims {
    year_min: i16,
    year_max: i16,
    /// Bit per known sex (female, male, other).
    sexes: u8,
    in_gp: bool,
}

fn sex_bit(s: Sex) -> u8 {
    match s {
        Sex::Unknown => 0,
        Sex::Female => 1,
        Sex::Male => 2,
        Sex::Other => 4,
    }
}

/// Checks each source's `person_source` rows, then linkage: whether the people a non-GP
/// source holds are in a GP record, and whether sources agree on year of birth and sex.
pub(crate) fn person_source(ctx: &Ctx<'_>, emit: &mut Emitter<'_>) -> Result<()> {
    let mut claims: KeyMap<u128, Claims> = KeyMap::default();
    let req = required(&PERSON_SOURCE);
    let columns = [
        "person_id",
        "source_type",
        "linked",
        "year_of_birth",
        "month_of_birth",
        "sex",
        "ethnic_category",
        "area_code",
        "practice_code",
        "date_of_death",
        "extract_date",
    ];
    let mut all: Vec<&str> = columns.to_vec();
    all.extend(req.iter().filter(|c| !columns.contains(c)));
    for source in &ctx.sources {
        let files = ctx.source_files(&source.name, "person_source");
        if files.is_empty() {
            continue;
        }
        let mut t = SourceTallies::default();
        let mut seen: KeySet<u128> = KeySet::default();
        for path in &files {
            scan(path, &all, |b| {
                let n = b.len();
                t.required.bad += b.rows_with_a_null(&req)?;
                t.required.of += n as u64;
                let (pid, st, linked, yob, mob, sx, eth, ar, pr, death, extract) = (
                    b.text("person_id")?,
                    b.text("source_type")?,
                    b.bool("linked")?,
                    b.small("year_of_birth")?,
                    b.small("month_of_birth")?,
                    b.text("sex")?,
                    b.text("ethnic_category")?,
                    b.text("area_code")?,
                    b.text("practice_code")?,
                    b.date("date_of_death")?,
                    b.date("extract_date")?,
                );
                for i in 0..n {
                    let Some(id) = opt_text(pid, i) else { continue };
                    let key = person_key(id);
                    t.duplicate.add(!seen.insert(key));
                    t.unlinked.add(linked.is_valid(i) && !linked.value(i));
                    let year = opt(yob, i);
                    t.year.add(year.is_none());
                    let sex_text = opt_text(sx, i);
                    let sex = Sex::from_name(sex_text.unwrap_or_default());
                    t.sex.add(sex == Sex::Unknown);
                    if let Some(s) = sex_text {
                        t.sex_domain.add(!matches!(s, "female" | "male" | "other" | "unknown"));
                    }
                    let ethnic = opt_text(eth, i);
                    t.ethnic.add(ethnic.is_none());
                    if let Some(e) = ethnic {
                        t.ethnic_domain.add(EthnicCategory::from_code(e).is_none());
                    }
                    let area = opt_text(ar, i);
                    t.area.add(area.is_none());
                    if let Some(a) = area {
                        t.area_known.add(!ctx.areas.codes.contains(a));
                    }
                    let practice = opt_text(pr, i);
                    t.practice.add(practice.is_none());
                    if let Some(p) = practice {
                        t.practice_known.add(!ctx.practices.codes.contains(p));
                    }
                    let at = opt(extract, i).and_then(from_date32).or(source.extract_date);
                    if let (Some(y), Some(at)) = (year, at) {
                        let month = opt(mob, i).filter(|m| (1..=12).contains(m)).unwrap_or(0) as i8;
                        t.old.add(death.is_null(i) && least_age(y, month, at) > MAX_AGE);
                        t.unborn.add(born_after_date(y, month, at));
                    }
                    let is_gp = opt_text(st, i) == Some("gp_practice");
                    let c = claims.entry(key).or_insert(Claims {
                        year_min: i16::MAX,
                        year_max: i16::MIN,
                        sexes: 0,
                        in_gp: false,
                    });
                    if let Some(y) = year {
                        c.year_min = c.year_min.min(y);
                        c.year_max = c.year_max.max(y);
                    }
                    c.sexes |= sex_bit(sex);
                    c.in_gp |= is_gp;
                }
                Ok(())
            })?;
        }
        let s = source.as_ref();
        let tb = "person_source";
        emit.rate("isRequired", &s, tb, "", t.required.bad, t.required.of, None);
        emit.rate(
            "isPrimaryKey",
            &s,
            tb,
            "person_id",
            t.duplicate.bad,
            t.duplicate.of,
            Some("One row per person in each source.".to_owned()),
        );
        emit.rate(
            "isForeignKey",
            &s,
            tb,
            "area_code",
            t.area_known.bad,
            t.area_known.of,
            Some(format!("Checked against {}.", ctx.areas.from)),
        );
        emit.rate(
            "isForeignKey",
            &s,
            tb,
            "practice_code",
            t.practice_known.bad,
            t.practice_known.of,
            Some(format!("Checked against {}.", ctx.practices.from)),
        );
        emit.rate(
            "fkDomain",
            &s,
            tb,
            "sex",
            t.sex_domain.bad,
            t.sex_domain.of,
            Some("Allowed: female, male, other, unknown.".to_owned()),
        );
        emit.rate(
            "fkDomain",
            &s,
            tb,
            "ethnic_category",
            t.ethnic_domain.bad,
            t.ethnic_domain.of,
            Some("Allowed: the 16 NHS ethnic category codes A to S.".to_owned()),
        );
        emit.rate("measureValueCompleteness", &s, tb, "year_of_birth", t.year.bad, t.year.of, None);
        emit.rate(
            "measureValueCompleteness",
            &s,
            tb,
            "sex",
            t.sex.bad,
            t.sex.of,
            Some("A sex of `unknown` counts as no value.".to_owned()),
        );
        emit.rate(
            "measureValueCompleteness",
            &s,
            tb,
            "ethnic_category",
            t.ethnic.bad,
            t.ethnic.of,
            Some("`Not stated` counts as no value.".to_owned()),
        );
        emit.rate(
            "measureValueCompleteness",
            &s,
            tb,
            "area_code",
            t.area.bad,
            t.area.of,
            Some("No area: no postcode, or one the postcode lookup in the store does not hold.".to_owned()),
        );
        emit.rate("measureValueCompleteness", &s, tb, "practice_code", t.practice.bad, t.practice.of, None);
        emit.rate("measureNhsNumberCompleteness", &s, tb, "", t.unlinked.bad, t.unlinked.of, None);
        emit.rate(
            "plausibleValueHigh",
            &s,
            tb,
            "year_of_birth",
            t.old.bad,
            t.old.of,
            Some(format!("Older than {MAX_AGE} at the extract date, with no date of death.")),
        );
        emit.rate(
            "plausibleValueLow",
            &s,
            tb,
            "year_of_birth",
            t.unborn.bad,
            t.unborn.of,
            Some("Born after the extract date.".to_owned()),
        );
    }

    // Linkage, now that every source's claims are in.
    for source in &ctx.sources {
        let files = ctx.source_files(&source.name, "person_source");
        if files.is_empty() {
            continue;
        }
        let (mut gp, mut year, mut sex) = (Tally::default(), Tally::default(), Tally::default());
        let mut seen: KeySet<u128> = KeySet::default();
        for path in &files {
            scan(path, &["person_id", "year_of_birth", "sex"], |b| {
                let (pid, yob, sx) = (b.text("person_id")?, b.small("year_of_birth")?, b.text("sex")?);
                for i in 0..b.len() {
                    let Some(id) = opt_text(pid, i) else { continue };
                    let key = person_key(id);
                    if !seen.insert(key) {
                        continue;
                    }
                    let Some(c) = claims.get(&key) else { continue };
                    gp.add(!c.in_gp);
                    if yob.is_valid(i) {
                        year.add(c.year_min != c.year_max);
                    }
                    let s = Sex::from_name(opt_text(sx, i).unwrap_or_default());
                    if s != Sex::Unknown {
                        sex.add(c.sexes.count_ones() > 1);
                    }
                }
                Ok(())
            })?;
        }
        let s = source.as_ref();
        if source.source_type != "gp_practice" {
            emit.rate(
                "measureGpLinkage",
                &s,
                "person_source",
                "",
                gp.bad,
                gp.of,
                Some("Found: the same person_id in the person_source rows of a gp_practice source.".to_owned()),
            );
        }
        emit.rate("plausibleLinkedDemographics", &s, "person_source", "year_of_birth", year.bad, year.of, None);
        emit.rate(
            "plausibleLinkedDemographics",
            &s,
            "person_source",
            "sex",
            sex.bad,
            sex.of,
            Some("`unknown` agrees with any sex.".to_owned()),
        );
    }
    Ok(())
}

#[derive(Default)]
struct SourceTallies {
    required: Tally,
    duplicate: Tally,
    unlinked: Tally,
    year: Tally,
    sex: Tally,
    sex_domain: Tally,
    ethnic: Tally,
    ethnic_domain: Tally,
    area: Tally,
    area_known: Tally,
    practice: Tally,
    practice_known: Tally,
    old: Tally,
    unborn: Tally,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn ages_are_the_least_the_birth_month_allows() {
        assert_eq!(least_age(1900, 0, d("2020-06-15")), 119);
        assert_eq!(least_age(1900, 5, d("2020-06-15")), 120);
        assert_eq!(least_age(1900, 6, d("2020-06-15")), 119);
        assert!(born_after_date(2020, 7, d("2020-06-15")));
        assert!(!born_after_date(2020, 0, d("2020-06-15")));
    }
}
