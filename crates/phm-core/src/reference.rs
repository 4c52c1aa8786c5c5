//! Reference data: the geography and organisations of the ICS and the standard population.
//!
//! The CSV files live in the repository's `reference/` folder (see its README for sources) and are
//! compiled in, so the binary needs no data files to run. [`ReferenceData::builtin`] parses and
//! cross-checks them: every area's PCN exists and is in the same place, every practice's PCN
//! exists, deciles are 1 to 10, ESP2013 sums to 100,000.

use std::collections::HashMap;

use serde::Deserialize;

use crate::{Error, Result};

/// A place: one of the ICS's local-authority footprints.
#[derive(Clone, Debug, Deserialize)]
pub struct Place {
    /// ONS code of the unitary authority, e.g. `E06000032`.
    pub place_code: String,
    /// Name, e.g. `Luton`.
    pub place_name: String,
    /// Two-letter code used inside synthetic codes, e.g. `LU`.
    pub short_code: String,
    /// ONS code of the ICB.
    pub icb_ons_code: String,
    /// ODS code of the ICB.
    pub icb_ods_code: String,
    /// Name of the ICB.
    pub icb_name: String,
    /// Registered population used to size the synthetic place.
    pub registered_population: u32,
    /// Where that figure comes from.
    pub registered_population_source: String,
}

/// A neighbourhood: a primary care network.
#[derive(Clone, Debug, Deserialize)]
pub struct Pcn {
    /// PCN code (synthetic: `SYNPCN…`).
    pub pcn_code: String,
    /// PCN name.
    pub pcn_name: String,
    /// The place it belongs to.
    pub place_code: String,
}

/// A GP practice.
#[derive(Clone, Debug, Deserialize)]
pub struct Practice {
    /// Practice code (synthetic: `SYNGP…`).
    pub practice_code: String,
    /// Practice name.
    pub practice_name: String,
    /// The PCN it belongs to.
    pub pcn_code: String,
    /// The place it belongs to.
    pub place_code: String,
    /// Relative list size, used by the synthetic generator.
    pub list_size_weight: f64,
}

/// An LSOA-level area.
#[derive(Clone, Debug, Deserialize)]
pub struct Area {
    /// Area code (synthetic: `SYN<place><nnn>`).
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// The place it lies in.
    pub place_code: String,
    /// The PCN whose practices mainly serve it.
    pub pcn_code: String,
    /// National IMD 2019 decile, 1 = most deprived 10% of England.
    pub imd_decile: u8,
    /// Relative population size, used by the synthetic generator.
    pub population_weight: f64,
    /// Postcode district of addresses in the area.
    pub postcode_district: String,
}

impl Area {
    /// National IMD quintile, 1 = most deprived 20% (deciles 1-2), the "Core20".
    pub fn imd_quintile(&self) -> u8 {
        self.imd_decile.div_ceil(2)
    }
}

/// An organisation that sends extracts or commissions care.
#[derive(Clone, Debug, Deserialize)]
pub struct Organisation {
    /// ODS code (or ONS code for councils).
    pub org_code: String,
    /// Name.
    pub org_name: String,
    /// `icb`, `acute_trust`, `community_trust`, `community_mental_health_trust`, `local_authority`.
    pub org_type: String,
    /// Places it serves, `;`-separated ONS codes.
    pub serves_places: String,
    /// Note on the code.
    pub note: String,
}

/// One band of the 2013 European Standard Population.
#[derive(Clone, Debug, Deserialize)]
pub struct EspBand {
    /// Label, e.g. `85-89` or `90+`.
    pub age_band: String,
    /// First age in the band.
    pub start_age: u8,
    /// Last age in the band; empty for the open-ended last band.
    pub end_age: Option<u8>,
    /// Standard population (the 19 bands sum to 100,000).
    pub standard_population: u32,
}

/// All built-in reference data, cross-checked.
#[derive(Clone, Debug)]
pub struct ReferenceData {
    /// Places in file order.
    pub places: Vec<Place>,
    /// PCNs in file order.
    pub pcns: Vec<Pcn>,
    /// Practices in file order.
    pub practices: Vec<Practice>,
    /// Areas in file order.
    pub areas: Vec<Area>,
    /// Partner organisations.
    pub organisations: Vec<Organisation>,
    /// ESP2013, 19 bands.
    pub esp2013: Vec<EspBand>,
}

macro_rules! reference_file {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../reference/", $name)))
    };
}

/// Parses one embedded CSV file into rows of `T`, naming the file and line on failure.
pub fn parse_csv<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, row) in reader.deserialize().enumerate() {
        let line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        rows.push(row.map_err(|e| Error::Reference { file, line, message: e.to_string() })?);
    }
    Ok(rows)
}

/// The plausible range of a measured value (`reference/plausibility.csv`), in its unit.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PlausibleRange {
    /// Short code-system name (`snomed`, `loinc`, ...).
    pub code_system: String,
    /// What is measured.
    pub code: String,
    /// Its name, for reasons.
    pub term: String,
    /// The unit the range is in (UCUM or as recorded).
    pub unit: String,
    /// Lowest plausible value.
    pub min: f64,
    /// Highest plausible value.
    pub max: f64,
}

/// Plausible ranges of measured values by code system and code, from
/// `reference/plausibility.csv`: what ingest rejects and the data-quality report counts.
#[derive(Clone, Debug, Default)]
pub struct PlausibleRanges(HashMap<(String, String), PlausibleRange>);

impl PlausibleRanges {
    /// The ranges compiled into this build, checked: a known code system, a code of its form,
    /// min below max, each code once.
    pub fn builtin() -> Result<Self> {
        let (file, text) = reference_file!("plausibility.csv");
        let rows: Vec<PlausibleRange> = parse_csv(file, text)?;
        let mut out = HashMap::new();
        for (i, r) in rows.into_iter().enumerate() {
            let fail = |message: String| Error::Reference {
                file,
                line: u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2),
                message,
            };
            let system = crate::codes::CodeSystem::from_name(&r.code_system)
                .ok_or_else(|| fail(format!("unknown code system `{}`", r.code_system)))?;
            crate::codes::check_code(system, &r.code).map_err(|e| fail(format!("`{}`: {}", r.code, e.reason())))?;
            // Not below: greater, equal, or either is NaN.
            if r.min.partial_cmp(&r.max) != Some(std::cmp::Ordering::Less) {
                return Err(fail(format!("min {} is not below max {}", r.min, r.max)));
            }
            let key = (r.code_system.clone(), r.code.clone());
            if out.insert(key, r).is_some() {
                return Err(fail("the same code is given twice".to_owned()));
            }
        }
        Ok(Self(out))
    }

    /// The range of `code` in `code_system` (short name), if one is set.
    pub fn get(&self, code_system: &str, code: &str) -> Option<&PlausibleRange> {
        self.0.get(&(code_system.to_owned(), code.to_owned()))
    }
}

impl ReferenceData {
    /// The reference data compiled into this build.
    pub fn builtin() -> Result<Self> {
        let (f, t) = reference_file!("places.csv");
        let places: Vec<Place> = parse_csv(f, t)?;
        let (f, t) = reference_file!("pcns.csv");
        let pcns: Vec<Pcn> = parse_csv(f, t)?;
        let (f, t) = reference_file!("practices.csv");
        let practices: Vec<Practice> = parse_csv(f, t)?;
        let (f, t) = reference_file!("areas.csv");
        let areas: Vec<Area> = parse_csv(f, t)?;
        let (f, t) = reference_file!("organisations.csv");
        let organisations: Vec<Organisation> = parse_csv(f, t)?;
        let (f, t) = reference_file!("esp2013.csv");
        let esp2013: Vec<EspBand> = parse_csv(f, t)?;
        let data = Self { places, pcns, practices, areas, organisations, esp2013 };
        data.check()?;
        Ok(data)
    }

    fn check(&self) -> Result<()> {
        let fail = |file, index: usize, message: String| Error::Reference {
            file,
            line: u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2),
            message,
        };
        let pcn_place: HashMap<&str, &str> =
            self.pcns.iter().map(|p| (p.pcn_code.as_str(), p.place_code.as_str())).collect();
        for (i, pcn) in self.pcns.iter().enumerate() {
            if self.place(&pcn.place_code).is_none() {
                return Err(fail("pcns.csv", i, format!("unknown place `{}`", pcn.place_code)));
            }
        }
        for (i, area) in self.areas.iter().enumerate() {
            if !(1..=10).contains(&area.imd_decile) {
                return Err(fail("areas.csv", i, format!("IMD decile {} is not 1-10", area.imd_decile)));
            }
            if pcn_place.get(area.pcn_code.as_str()) != Some(&area.place_code.as_str()) {
                return Err(fail(
                    "areas.csv",
                    i,
                    format!("PCN `{}` is not in place `{}`", area.pcn_code, area.place_code),
                ));
            }
        }
        for (i, practice) in self.practices.iter().enumerate() {
            if pcn_place.get(practice.pcn_code.as_str()) != Some(&practice.place_code.as_str()) {
                return Err(fail(
                    "practices.csv",
                    i,
                    format!("PCN `{}` is not in place `{}`", practice.pcn_code, practice.place_code),
                ));
            }
        }
        let total: u32 = self.esp2013.iter().map(|b| b.standard_population).sum();
        if self.esp2013.len() != 19 || total != 100_000 {
            return Err(fail(
                "esp2013.csv",
                0,
                format!("expected 19 bands summing to 100000, found {} summing to {total}", self.esp2013.len()),
            ));
        }
        Ok(())
    }

    /// The place with this ONS code.
    pub fn place(&self, place_code: &str) -> Option<&Place> {
        self.places.iter().find(|p| p.place_code == place_code)
    }

    /// The area with this code.
    pub fn area(&self, area_code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.area_code == area_code)
    }

    /// The practice with this code.
    pub fn practice(&self, practice_code: &str) -> Option<&Practice> {
        self.practices.iter().find(|p| p.practice_code == practice_code)
    }

    /// The organisation with this code.
    pub fn organisation(&self, org_code: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.org_code == org_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_ranges_parse_and_are_checked() {
        let ranges = PlausibleRanges::builtin().expect("reference/plausibility.csv is valid");
        let bmi = ranges.get("snomed", "60621009").expect("BMI");
        assert_eq!((bmi.unit.as_str(), bmi.min, bmi.max), ("kg/m2", 10.0, 90.0));
        assert!(ranges.get("loinc", "8480-6").is_some());
        assert!(ranges.get("snomed", "8480-6").is_none());
    }

    #[test]
    fn builtin_reference_data_is_consistent() {
        let data = ReferenceData::builtin().expect("reference data parses and cross-checks");
        assert_eq!(data.places.len(), 4);
        assert_eq!(data.esp2013.len(), 19);
        assert!(data.areas.iter().all(|a| a.area_code.starts_with("SYN")));
        assert!(data.practices.iter().all(|p| p.practice_code.starts_with("SYN")));
    }

    #[test]
    fn each_place_keeps_its_real_imd_decile_profile() {
        // Counts of LSOAs by national IMD 2019 decile, from blmk-facts.md.
        let expected = [
            ("E06000055", [4, 10, 11, 12, 10, 10, 14, 13, 10, 9]),
            ("E06000056", [0, 3, 10, 7, 11, 14, 23, 15, 42, 32]),
            ("E06000032", [4, 29, 18, 18, 21, 7, 9, 10, 5, 0]),
            ("E06000042", [8, 10, 10, 15, 13, 17, 22, 29, 18, 10]),
        ];
        let data = ReferenceData::builtin().expect("reference data");
        for (place, counts) in expected {
            let mut got = [0; 10];
            for area in data.areas.iter().filter(|a| a.place_code == place) {
                got[usize::from(area.imd_decile - 1)] += 1;
            }
            assert_eq!(got, counts, "{place}");
        }
    }
}
