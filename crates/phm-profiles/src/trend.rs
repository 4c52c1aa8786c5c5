//! Trends: each indicator's figure for everyone (breakdown `all`) in the ICS, each place and
//! each neighbourhood it covers, at [`crate::dates::trend_dates`], with a Making Data Count XmR
//! chart (`phm_stats::spc`) of the released values.
//!
//! * The points before the index date are computed in their own engine passes
//!   ([`crate::profile::compute`]) and released here, one disclosure table per indicator, with
//!   the groups a reader could subtract at each date (the places, and the neighbourhoods, add
//!   up to the ICS) and the same policy as the profile.
//! * The last point *is* the profile's `all` row for the area, as that release published it
//!   (the same suppression, rounding and value), so a trend never contradicts its profile.
//! * The chart is of the values as released: a point whose value is withheld or not reported
//!   is a gap, passed to `phm_stats::spc::xmr` as one (the moving ranges either side of it are
//!   left out, and no run or trend crosses it, as the Making Data Count tools treat a missing
//!   point), with `SpcOptions`' defaults (the MDC Excel tools: limits from
//!   every point, no recalculation, runs of 7, no screening). Making Data Count asks for at
//!   least [`phm_stats::spc::MIN_POINTS_FOR_LIMITS`] (15) points before limits are drawn; with
//!   fewer points with a value, no limits, rules or icons are given, and `spc_reason` says why.
//! * The icons are per series: the variation icon is the latest point's (none when the latest
//!   point has no value); the assurance icon needs a target, and definitions carry none, so it
//!   is `no_target`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use phm_core::reference::ReferenceData;
use phm_disclosure::{Policy, Released, ReleasedCell, ReleasedTable, Status};
use phm_model::{Method, Polarity};
use phm_stats::spc::{self, Assurance, SpcOptions};

use crate::Result;
use crate::cells::{AreaType, Breakdown, Key};
use crate::profile::{Profiles, RowKey, area_names, release_rows};

/// Releases the trend points before each index date under `policy` (see the
/// [module documentation](self)).
///
/// # Errors
/// A table the disclosure layer refuses (a bug in the groups).
pub fn release(profiles: &Profiles, policy: &Policy) -> Result<Vec<Released<ReleasedTable<RowKey>>>> {
    release_rows(&profiles.definitions, &profiles.trends, &profiles.ics, policy)
}

/// A released trend point, as written (and read back by the web app).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrendRow {
    /// Indicator name.
    pub indicator: String,
    /// Indicator title.
    pub title: String,
    /// Statistical method.
    pub method: Method,
    /// `higher_is_better`, `lower_is_better` or `no_judgement`.
    pub polarity: String,
    /// The point's index date.
    pub period: NaiveDate,
    /// `ics`, `place` or `neighbourhood`.
    pub area_type: String,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// Numerator, as released.
    pub numerator: Option<u64>,
    /// Denominator, as released.
    pub denominator: Option<u64>,
    /// The value (what is charted).
    pub value: Option<f64>,
    /// 95% lower limit of the value.
    pub lower_95: Option<f64>,
    /// 95% upper limit of the value.
    pub upper_95: Option<f64>,
    /// Why the value is missing or to be read with care.
    pub reason: Option<String>,
    /// Disclosure control applied to the point's counts.
    pub disclosure: String,
    /// The chart's centre line (mean of the points with a value).
    pub mean: Option<f64>,
    /// Lower process limit.
    pub lower_process_limit: Option<f64>,
    /// Upper process limit.
    pub upper_process_limit: Option<f64>,
    /// The special-cause rules the point breaks, `;`-separated: `astronomical`, `shift`,
    /// `trend`, `two_of_three`; empty when it breaks none or is not charted.
    pub special_cause: Option<String>,
    /// What the point shows: `common_cause`, `improvement`, `concern` or `neither`.
    pub variation: Option<String>,
    /// The series' variation icon (its latest point's): `common_cause`, `improvement_high`,
    /// `improvement_low`, `concern_high`, `concern_low`, `neither_high`, `neither_low`.
    pub variation_icon: Option<String>,
    /// The series' assurance icon: `no_target` (definitions carry no targets).
    pub assurance_icon: String,
    /// Why the series has no limits or icon, or what to bear in mind (gaps).
    pub spc_reason: Option<String>,
}

/// The released trends. Only [`TrendTable::from_released`] makes one, from released profile
/// and trend tables (private fields, no `Deserialize`); the writer takes only a `TrendTable`.
#[derive(Clone, Debug)]
pub struct TrendTable {
    rows: Vec<TrendRow>,
}

/// A released cell and the table it came from (for its disclosure status).
type Source<'a> = (&'a ReleasedTable<RowKey>, &'a ReleasedCell<RowKey>);

impl TrendTable {
    /// The rows: indicator (in the profiles' order), area, then period in time order.
    pub fn rows(&self) -> &[TrendRow] {
        &self.rows
    }

    /// Builds every series from the released earlier points (`trends`) and the released profile
    /// rows (`profile`, whose `all` rows are the last points), and charts each.
    pub fn from_released(
        profiles: &Profiles,
        profile: &[Released<ReleasedTable<RowKey>>],
        trends: &[Released<ReleasedTable<RowKey>>],
        reference: &ReferenceData,
    ) -> TrendTable {
        let names = area_names(reference, &profiles.ics);
        let mut cells: HashMap<(&str, AreaType, &str, NaiveDate), Source<'_>> = HashMap::new();
        let mut areas: BTreeMap<&str, BTreeSet<(AreaType, &str)>> = BTreeMap::new();
        let own_dates: HashMap<&str, NaiveDate> =
            profiles.definitions.iter().map(|d| (d.indicator.name.as_str(), d.index_date)).collect();
        for table in trends {
            for cell in table.get().cells() {
                let k = cell.key();
                cells.insert(
                    (k.indicator.as_str(), k.key.area_type, k.key.area.as_str(), k.key.index_date),
                    (table.get(), cell),
                );
                areas.entry(k.indicator.as_str()).or_default().insert((k.key.area_type, k.key.area.as_str()));
            }
        }
        for table in profile {
            for cell in table.get().cells().iter().filter(|c| c.key().key.breakdown == Breakdown::All) {
                let k = cell.key();
                if own_dates.get(k.indicator.as_str()) != Some(&k.key.index_date) {
                    continue;
                }
                cells.insert(
                    (k.indicator.as_str(), k.key.area_type, k.key.area.as_str(), k.key.index_date),
                    (table.get(), cell),
                );
                areas.entry(k.indicator.as_str()).or_default().insert((k.key.area_type, k.key.area.as_str()));
            }
        }
        let rounding =
            profile.first().or(trends.first()).map_or(phm_disclosure::Rounding::None, |t| t.get().policy().rounding());
        let reasons: HashMap<(usize, &Key), &String> = profiles
            .rows
            .iter()
            .chain(&profiles.trends)
            .filter_map(|r| {
                r.figure_for(rounding).ok().and_then(|f| f.reason.as_ref()).map(|why| ((r.definition, &r.key), why))
            })
            .collect();

        let mut rows = Vec::new();
        for (def_index, (def, dates)) in profiles.definitions.iter().zip(&profiles.trend_dates).enumerate() {
            let ind = &def.indicator;
            let Some(series_areas) = areas.get(ind.name.as_str()) else { continue };
            for &(area_type, area) in series_areas {
                let area_name =
                    names.get(&(area_type, area.to_owned())).map_or_else(|| area.to_owned(), |(name, _)| name.clone());
                let mut series: Vec<TrendRow> = dates
                    .iter()
                    .map(|&date| {
                        let key = Key {
                            index_date: date,
                            area_type,
                            area: area.to_owned(),
                            breakdown: Breakdown::All,
                            category: "all".into(),
                        };
                        let base = TrendRow {
                            indicator: ind.name.clone(),
                            title: ind.title.clone(),
                            method: ind.method,
                            polarity: ind.about.polarity.name().to_owned(),
                            period: date,
                            area_type: area_type.name().to_owned(),
                            area_code: area.to_owned(),
                            area_name: area_name.clone(),
                            numerator: None,
                            denominator: None,
                            value: None,
                            lower_95: None,
                            upper_95: None,
                            reason: None,
                            disclosure: String::new(),
                            mean: None,
                            lower_process_limit: None,
                            upper_process_limit: None,
                            special_cause: None,
                            variation: None,
                            variation_icon: None,
                            assurance_icon: NO_TARGET.to_owned(),
                            spc_reason: None,
                        };
                        match cells.get(&(ind.name.as_str(), area_type, area, date)) {
                            Some((table, cell)) => {
                                let c = cell.counts();
                                let d = cell.derived();
                                TrendRow {
                                    numerator: c[0].value(),
                                    denominator: c[1].value(),
                                    value: d[0].value(),
                                    lower_95: d[1].value(),
                                    upper_95: d[2].value(),
                                    reason: match d[0].status() {
                                        Status::Withheld => Some(d[0].status().to_string()),
                                        _ => reasons.get(&(def_index, &key)).map(|s| (*s).clone()),
                                    },
                                    disclosure: table.counts_status(cell),
                                    ..base
                                }
                            }
                            None => TrendRow {
                                reason: Some("nobody in this area's denominator on this date".into()),
                                disclosure: "no count".into(),
                                ..base
                            },
                        }
                    })
                    .collect();
                chart(&mut series, ind.about.polarity);
                rows.extend(series);
            }
        }
        TrendTable { rows }
    }
}

/// The assurance icon when there is no target.
pub const NO_TARGET: &str = "no_target";

/// The SPC polarity of an indicator's polarity.
pub fn spc_polarity(polarity: Polarity) -> spc::Polarity {
    match polarity {
        Polarity::HigherIsBetter => spc::Polarity::HigherIsBetter,
        Polarity::LowerIsBetter => spc::Polarity::LowerIsBetter,
        Polarity::NoJudgement => spc::Polarity::Neither,
    }
}

/// Charts one series in place (see the [module documentation](self)).
fn chart(series: &mut [TrendRow], polarity: Polarity) {
    let values: Vec<Option<f64>> = series.iter().map(|r| r.value.filter(|v| v.is_finite())).collect();
    let charted = values.iter().flatten().count();
    let n = series.len();
    let gaps = n - charted;
    let reason = if charted < spc::MIN_POINTS_FOR_LIMITS {
        Some(format!(
            "{charted} of {n} points have a value; Making Data Count asks for at least {} points before process limits are drawn",
            spc::MIN_POINTS_FOR_LIMITS
        ))
    } else {
        match spc::xmr(&values, &SpcOptions::new(spc_polarity(polarity))) {
            Err(why) => Some(why.to_string()),
            Ok(chart) => {
                for (row, p) in series.iter_mut().zip(&chart.points) {
                    // A gap has no value, so nothing to chart.
                    let Some(variation) = p.variation else { continue };
                    row.mean = Some(p.mean);
                    row.lower_process_limit = p.lower_limit;
                    row.upper_process_limit = p.upper_limit;
                    row.special_cause = Some(p.rules.names()).filter(|r| !r.is_empty());
                    row.variation = Some(variation.kind().to_owned());
                }
                let latest_has_value = values.last().is_some_and(Option::is_some);
                let icon = chart.variation.map(|v| v.icon().to_owned());
                let assurance = match chart.assurance {
                    // No definition carries a target, so the method never assesses one.
                    Assurance::NotAssessed => NO_TARGET,
                    Assurance::ConsistentlyPass => "consistently_pass",
                    Assurance::ConsistentlyFail => "consistently_fail",
                    Assurance::HitAndMiss => "hit_and_miss",
                };
                for row in series.iter_mut() {
                    row.variation_icon.clone_from(&icon);
                    assurance.clone_into(&mut row.assurance_icon);
                }
                let gaps = match (gaps, latest_has_value) {
                    (0, _) => None,
                    (_, true) => Some(format!(
                        "{gaps} of {n} points have no value; the limits come from the other {charted}, leaving out the moving ranges next to a gap, and no run or trend crosses a gap"
                    )),
                    (_, false) => Some(format!(
                        "{gaps} of {n} points have no value, the latest among them, so there is no variation icon; the limits come from the other {charted}, leaving out the moving ranges next to a gap, and no run or trend crosses a gap"
                    )),
                };
                // Values never next to each other give a mean but no limits: say why.
                let no_limits = chart.periods.iter().find_map(|p| p.limits.err()).map(|why| why.to_string());
                match (gaps, no_limits) {
                    (Some(g), Some(l)) => Some(format!("{g}; {l}")),
                    (g, l) => g.or(l),
                }
            }
        }
    };
    for row in series.iter_mut() {
        row.spc_reason.clone_from(&reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[Option<f64>]) -> Vec<TrendRow> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| TrendRow {
                indicator: "x".into(),
                title: "X".into(),
                method: Method::Proportion,
                polarity: "higher_is_better".into(),
                period: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + chrono::Days::new(i as u64),
                area_type: "ics".into(),
                area_code: "E54000024".into(),
                area_name: "ICS".into(),
                numerator: None,
                denominator: None,
                value: *v,
                lower_95: None,
                upper_95: None,
                reason: None,
                disclosure: "published".into(),
                mean: None,
                lower_process_limit: None,
                upper_process_limit: None,
                special_cause: None,
                variation: None,
                variation_icon: None,
                assurance_icon: NO_TARGET.into(),
                spc_reason: None,
            })
            .collect()
    }

    #[test]
    fn a_stable_series_is_common_cause_with_limits_from_every_point() {
        let values: Vec<Option<f64>> = (0..20).map(|i| Some(50.0 + f64::from(i % 3))).collect();
        let mut s = series(&values);
        chart(&mut s, Polarity::HigherIsBetter);
        let direct = spc::xmr(&values, &SpcOptions::new(spc::Polarity::HigherIsBetter)).expect("chart");
        assert_eq!(s[0].mean, Some(direct.periods[0].mean));
        assert_eq!(s[19].upper_process_limit, direct.periods[0].upper_limit());
        assert!(s.iter().all(|r| r.variation_icon.as_deref() == Some("common_cause")
            && r.assurance_icon == NO_TARGET
            && r.spc_reason.is_none()));
    }

    #[test]
    fn a_late_rise_is_improvement_when_higher_is_better_and_concern_when_lower_is() {
        let values: Vec<Option<f64>> =
            (0..24).map(|i| Some(if i < 16 { 50.0 + f64::from(i % 2) } else { 70.0 })).collect();
        let mut s = series(&values);
        chart(&mut s, Polarity::HigherIsBetter);
        assert_eq!(s[23].variation_icon.as_deref(), Some("improvement_high"));
        assert!(s[23].special_cause.as_deref().is_some_and(|r| r.contains("shift")), "{:?}", s[23].special_cause);
        let mut s = series(&values);
        chart(&mut s, Polarity::LowerIsBetter);
        assert_eq!(s[23].variation_icon.as_deref(), Some("concern_high"));
        assert_eq!(s[23].variation.as_deref(), Some("concern"));
    }

    #[test]
    fn gaps_are_skipped_and_said() {
        let mut values: Vec<Option<f64>> = (0..24).map(|i| Some(50.0 + f64::from(i % 4))).collect();
        values[3] = None;
        values[10] = None;
        let mut s = series(&values);
        chart(&mut s, Polarity::NoJudgement);
        assert!(s[3].mean.is_none() && s[4].mean.is_some());
        // The gaps are passed through: the chart is the one drawn with them, not over the
        // values pushed together (which would join 53 to 51 across point 3).
        let direct = spc::xmr(&values, &SpcOptions::new(spc::Polarity::Neither)).expect("chart");
        assert_eq!(s[0].upper_process_limit, direct.periods[0].upper_limit());
        let joined = spc::xmr(
            &values.iter().flatten().copied().map(Some).collect::<Vec<_>>(),
            &SpcOptions::new(spc::Polarity::Neither),
        )
        .expect("chart");
        assert_ne!(s[0].upper_process_limit, joined.periods[0].upper_limit());
        assert!(
            s[0].spc_reason.as_deref().is_some_and(|r| r.starts_with("2 of 24 points have no value")),
            "{:?}",
            s[0].spc_reason
        );
        assert!(s[0].variation_icon.is_some());
    }

    #[test]
    fn fewer_than_fifteen_points_with_a_value_get_no_limits() {
        let mut values: Vec<Option<f64>> = (0..24).map(|i| Some(f64::from(i))).collect();
        for v in values.iter_mut().skip(14) {
            *v = None;
        }
        let mut s = series(&values);
        chart(&mut s, Polarity::HigherIsBetter);
        assert!(s.iter().all(|r| r.mean.is_none() && r.variation_icon.is_none()));
        assert!(
            s[0].spc_reason.as_deref().is_some_and(|r| r.starts_with("14 of 24 points have a value")),
            "{:?}",
            s[0].spc_reason
        );
    }

    #[test]
    fn a_missing_latest_point_leaves_no_variation_icon() {
        let mut values: Vec<Option<f64>> = (0..24).map(|i| Some(50.0 + f64::from(i % 4))).collect();
        values[23] = None;
        let mut s = series(&values);
        chart(&mut s, Polarity::HigherIsBetter);
        assert!(s[0].variation_icon.is_none() && s[22].mean.is_some());
        assert!(s[0].spc_reason.as_deref().is_some_and(|r| r.contains("no variation icon")));
    }
}
