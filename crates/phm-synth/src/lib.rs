//! A synthetic population of the Bedfordshire, Luton and Milton Keynes ICS, written as the
//! extracts its partners send.
//!
//! [`generate`] simulates each person independently from the run seed and their index (so the
//! output is the same for any number of threads), in chunks that are generated in parallel and
//! written in order, so memory stays flat whatever the population size. The output is a *drop*:
//! one FHIR R4 NDJSON extract per GP practice, acute trust and community or mental health trust,
//! one social care CSV per council, the national data opt-out list, and `manifest.json`.
//!
//! **Architecture invariant:** this crate writes only `phm-formats` files. It never depends on
//! ingest or the store; if it needs something they hold, the partner format is missing it.
#![warn(missing_docs)]

pub mod calibration;
pub mod check;
pub mod codes;
pub mod emit;
pub mod error;
pub mod model;
pub mod names;
pub mod output;
pub mod person;

use std::path::PathBuf;
use std::sync::mpsc;

use chrono::NaiveDate;
use phm_core::nhs_number::NhsNumber;
use phm_core::reference::ReferenceData;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use error::{Error, Result};

use crate::calibration::Targets;
use crate::codes::Codes;
use crate::emit::Context;
use crate::model::Model;
use crate::output::{DropWriter, Layout, Sink};
use crate::person::Person;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// People registered and alive at the extract date (about; deaths in the window are extra).
    pub population: u64,
    /// Run seed.
    pub seed: u64,
    /// Output folder (created).
    pub out_dir: PathBuf,
    /// The date the extracts were taken.
    pub extract_date: NaiveDate,
}

/// The default extract date.
pub fn default_extract_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 30).unwrap_or_default()
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Summary {
    /// People simulated (including those who died in the window).
    pub people: u64,
    /// The manifest written.
    pub manifest: phm_formats::manifest::Manifest,
}

/// People per chunk: the unit of parallel work and of ordered writing.
const CHUNK: u64 = 1024;

/// Stream of valid NHS numbers in ranges never issued to people: all of 999 first
/// (about 909,000 valid numbers), then 998, 997, … when a population needs more.
struct NhsNumbers {
    blocks: Vec<Vec<u32>>,
    multiplier: u64,
}

impl NhsNumbers {
    fn new(count: u64) -> Result<Self> {
        let mut blocks = Vec::new();
        let mut capacity = 0u64;
        let mut prefix = 999u64;
        while capacity < count {
            if prefix < 900 {
                return Err(Error::Config(format!(
                    "{count} people need more NHS numbers than the 900-999 test ranges hold"
                )));
            }
            let valid: Vec<u32> = (0..1_000_000u32)
                .filter(|offset| NhsNumber::from_first_nine(prefix * 1_000_000 + u64::from(*offset)).is_some())
                .collect();
            capacity += valid.len() as u64;
            blocks.push(valid);
            prefix -= 1;
        }
        Ok(Self { blocks, multiplier: 7_919 })
    }

    /// The number for person `index`: a fixed permutation within each block, so numbers do not
    /// run in the order people were generated.
    fn get(&self, index: u64) -> Option<NhsNumber> {
        let mut rest = index;
        for (b, block) in self.blocks.iter().enumerate() {
            let len = block.len() as u64;
            if rest < len {
                // 7919 is prime and does not divide any block length, so this is a bijection.
                let slot = (rest.wrapping_mul(self.multiplier) + 13) % len;
                let prefix = 999 - b as u64;
                return NhsNumber::from_first_nine(prefix * 1_000_000 + u64::from(block[slot as usize]));
            }
            rest -= len;
        }
        None
    }
}

/// Everything fixed for a run: model, codes, layout.
pub struct Generator {
    /// The calibrated model.
    pub model: Model,
    /// Codes written.
    pub codes: Codes,
    /// File layout.
    pub layout: Layout,
    seed: u64,
}

impl Generator {
    /// Loads reference data and targets and calibrates the model.
    pub fn new(seed: u64, extract_date: NaiveDate) -> Result<Self> {
        let reference = ReferenceData::builtin()?;
        let targets = Targets::builtin()?;
        let layout = Layout::new(&reference);
        let model = Model::new(reference, targets, extract_date, seed)?;
        let codes = Codes::builtin()?;
        Ok(Self { model, codes, layout, seed })
    }

    /// How many people to simulate so that about `population` are alive at the extract date.
    pub fn people_for(&self, population: u64) -> u64 {
        // The sampling already oversamples by survival; the expected deaths are the difference.
        (population as f64 * self.model.oversampling()).round() as u64
    }

    /// Simulates person `index` (deterministic in seed and index).
    pub fn person(&self, index: u64, nhs_number: NhsNumber) -> (Person, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        let person = Person::simulate(&self.model, index, nhs_number, &mut rng);
        (person, rng)
    }

    /// The synthetic postcode directory: every postcode with its area and place, in the
    /// layout of the ONS National Statistics Postcode Lookup (`pcds`, `lsoa21cd`, `laua`).
    pub fn postcode_lookup(&self) -> Result<Sink> {
        let mut sink = Sink::new(self.layout.files.len());
        let file = self.layout.postcode_lookup();
        for (i, area) in self.model.reference.areas.iter().enumerate() {
            for unit in 0..names::POSTCODES_PER_AREA {
                let pc = names::postcode(&area.postcode_district, self.model.area_in_district[i], unit);
                sink.csv_row(file, &[&pc, &area.area_code, &area.place_code])?;
            }
        }
        Ok(sink)
    }

    fn chunk(&self, numbers: &NhsNumbers, from: u64, to: u64) -> Result<Sink> {
        let ctx = Context { model: &self.model, codes: &self.codes, layout: &self.layout, seed: self.seed };
        let mut sink = Sink::new(self.layout.files.len());
        for index in from..to {
            let nhs = numbers.get(index).ok_or_else(|| Error::Config("ran out of NHS numbers".into()))?;
            let (person, mut rng) = self.person(index, nhs);
            emit::emit(&ctx, &person, &mut rng, &mut sink)?;
        }
        Ok(sink)
    }
}

/// Generates a drop. `progress` is called with the number of people done so far.
pub fn generate(config: &SynthConfig, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Summary> {
    if config.population == 0 {
        return Err(Error::Config("the population must be at least 1".into()));
    }
    let generator = Generator::new(config.seed, config.extract_date)?;
    let people = generator.people_for(config.population);
    let numbers = NhsNumbers::new(people)?;
    std::fs::create_dir_all(&config.out_dir).map_err(|source| Error::Write { path: config.out_dir.clone(), source })?;
    let mut writer = DropWriter::create(&config.out_dir, &generator.layout)?;
    writer.append(&generator.postcode_lookup()?, &generator.layout)?;

    let chunks = people.div_ceil(CHUNK);
    let batch = (rayon::current_num_threads() as u64 * 4).max(4);
    let (tx, rx) = mpsc::sync_channel::<Vec<Sink>>(1);
    let layout = &generator.layout;
    let manifest = std::thread::scope(|scope| -> Result<phm_formats::manifest::Manifest> {
        let handle = scope.spawn(move || -> Result<phm_formats::manifest::Manifest> {
            for sinks in rx {
                for sink in &sinks {
                    writer.append(sink, layout)?;
                }
            }
            let mut parameters = serde_json::Map::new();
            parameters.insert("seed".into(), config.seed.into());
            parameters.insert("population".into(), config.population.into());
            parameters.insert("people_simulated".into(), people.into());
            parameters.insert("history_years".into(), model::HISTORY_YEARS.into());
            parameters.insert("gp_appointment_months".into(), emit::GP_APPOINTMENT_MONTHS.into());
            parameters.insert("outpatient_community_months".into(), emit::OUTPATIENT_COMMUNITY_MONTHS.into());
            writer.finish(
                layout,
                format!("phm-synth {}", env!("CARGO_PKG_VERSION")),
                emit::iso(config.extract_date),
                parameters,
            )
        });
        let mut first = 0;
        let mut result = Ok(());
        while first < chunks {
            let last = (first + batch).min(chunks);
            let sinks: Result<Vec<Sink>> = (first..last)
                .into_par_iter()
                .map(|c| generator.chunk(&numbers, c * CHUNK, ((c + 1) * CHUNK).min(people)))
                .collect();
            match sinks {
                Ok(sinks) => {
                    if tx.send(sinks).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            progress((last * CHUNK).min(people), people);
            first = last;
        }
        drop(tx);
        let writer_result = handle.join().map_err(|_| Error::Config("the writer thread panicked".into()))?;
        result.and(writer_result)
    })?;
    Ok(Summary { people, manifest })
}

/// The manifest type, re-exported for the command line.
pub type ManifestAlias = phm_formats::manifest::Manifest;
/// JSON object type of manifest parameters.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
