//! FHIR R4 resources as UK Core uses them, for Bulk Data NDJSON (one resource per line, one
//! resource type per file).
//!
//! The types cover the elements OpenPHM writes and reads; unknown elements in input are ignored
//! by the reader (UK Core resources carry many), while [`validate`] checks the R4 rules that
//! matter for a resource to be usable: required elements, code and date formats, references.
//!
//! R4's choice elements (`performed[x]`, `effective[x]`, `onset[x]`, `abatement[x]`,
//! `occurrence[x]`, `value[x]`, `deceased[x]`, `medication[x]`) are read in every form R4 allows
//! for the resources here, each as its own field (`performed_date_time`, `performed_period`,
//! `performed_string`, ...); [`validate`] refuses a resource that gives two forms of one choice.
//! Times are compared as instants ([`time_order`]): `2020-10-25T01:30:00+01:00` is before
//! `2020-10-25T01:10:00+00:00`.
//!
//! A UTF-8 byte-order mark at the start of a file is not part of its first line.

mod datatypes;
mod ndjson;
mod resources;
mod validation;

use serde::{Deserialize, Serialize};

pub use datatypes::*;
pub use ndjson::*;
pub use resources::*;
pub use validation::*;

/// A FHIR resource type OpenPHM reads or writes.
pub trait Resource: Serialize + for<'de> Deserialize<'de> {
    /// The `resourceType` value.
    const TYPE: &'static str;
    /// The resource's `resourceType` field as read.
    fn resource_type(&self) -> &str;
    /// The logical id.
    fn id(&self) -> Option<&str>;
    /// R4 structural checks beyond what deserialisation enforces; each problem names its element.
    fn problems(&self) -> Vec<Problem>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_fhir_formats() {
        for ok in ["2020", "2020-02", "2020-02-29", "2019-12-10T13:00:00+00:00"] {
            assert!(is_fhir_date_or_datetime(ok), "{ok}");
        }
        for bad in ["20", "2020-2-1", "10/02/2020", "", "2020-02-29 13:00"] {
            assert!(!is_fhir_date_or_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn reader_accounts_for_every_line() {
        let input = concat!(
            r#"{"resourceType":"Patient","id":"a","gender":"female"}"#,
            "\n",
            "\n",
            r#"{"resourceType":"Patient","id":"b","gender":"f"}"#,
            "\n",
            r#"{"resourceType":"Observation","id":"c"}"#,
            "\n",
            r#"{"resourceType":"Patient","id":"#,
            "\n",
        );
        let read: NdjsonRead<Patient> = read_ndjson(input.as_bytes()).expect("in-memory read");
        assert_eq!(read.lines, 4);
        assert_eq!(read.resources.len(), 1);
        let lines: Vec<u64> = read.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(read.bad[0].element.as_deref(), Some("Patient.gender"));
        assert_eq!(read.bad[1].element.as_deref(), Some("resourceType"));
    }

    #[test]
    fn times_with_offsets_are_ordered_as_instants() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // The night the clocks go back: 01:50 BST is 00:50 UTC, before 01:10 GMT.
        assert_eq!(time_order("2020-10-25T01:50:00+01:00", "2020-10-25T01:10:00+00:00"), Some(Less));
        assert_eq!(time_order("2020-10-25T00:30:00+01:00", "2020-10-24T23:50:00+00:00"), Some(Less));
        assert_eq!(time_order("2020-01-01T10:00:00Z", "2020-01-01T11:00:00+01:00"), Some(Equal));
        assert_eq!(time_order("2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00Z"), Some(Greater));
        // A date covers its day; dates compare at the precision both have.
        assert_eq!(time_order("2020-01-01", "2020-01-01T23:00:00+00:00"), Some(Equal));
        assert_eq!(time_order("2020", "2020-06-01"), Some(Equal));
        assert_eq!(time_order("2019-12-31", "2020-01-01T00:30:00+01:00"), Some(Less));
        assert_eq!(time_order("yesterday", "2020-01-01"), None);
    }

    #[test]
    fn an_encounter_across_a_clock_change_is_valid_and_one_that_really_ends_first_is_not() {
        let enc = |start: &str, end: &str| Encounter {
            resource_type: "Encounter".into(),
            id: Some("e".into()),
            status: Some("finished".into()),
            class: Some(Coding::new("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency")),
            subject: Some(Reference::to("Patient", "p")),
            period: Some(Period { start: Some(start.into()), end: Some(end.into()) }),
            ..Encounter::default()
        };
        assert_eq!(validate(&enc("2020-10-25T01:50:00+01:00", "2020-10-25T01:10:00+00:00")), vec![]);
        let p = validate(&enc("2020-10-25T01:10:00+00:00", "2020-10-25T01:50:00+01:00"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].element, "Encounter.period");
    }

    #[test]
    fn every_form_of_a_choice_is_read_and_two_forms_are_refused() {
        let line = r#"{"resourceType":"Procedure","id":"a","status":"completed","subject":{"reference":"Patient/p"},"performedPeriod":{"start":"2010-11-20T02:52:44-05:00","end":"2010-11-20T03:07:44-05:00"}}"#;
        let read: NdjsonRead<Procedure> = read_ndjson(line.as_bytes()).expect("in-memory read");
        assert_eq!(
            read.resources[0].1.performed_period.as_ref().and_then(|p| p.start.as_deref()),
            Some("2010-11-20T02:52:44-05:00")
        );
        let obs = r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},"valueBoolean":false}"#;
        let read: NdjsonRead<Observation> = read_ndjson(obs.as_bytes()).expect("in-memory read");
        assert_eq!(read.resources[0].1.value(), Value::Boolean(false));
        let two = obs.replace("\"valueBoolean\":false", "\"valueBoolean\":false,\"valueInteger\":1");
        let read: NdjsonRead<Observation> = read_ndjson(two.as_bytes()).expect("in-memory read");
        assert_eq!(read.bad[0].element.as_deref(), Some("Observation.value[x]"));
    }

    #[test]
    fn a_byte_order_mark_at_the_start_of_a_file_is_skipped() {
        let mut input = UTF8_BOM.to_vec();
        input.extend_from_slice(br#"{"resourceType":"Patient","id":"a"}"#);
        let read: NdjsonRead<Patient> = read_ndjson(&input[..]).expect("in-memory read");
        assert_eq!((read.resources.len(), read.bad.len()), (1, 0));
    }

    #[test]
    fn invalid_utf8_is_a_bad_line_not_an_error() {
        let mut input = br#"{"resourceType":"Patient","id":"a"}"#.to_vec();
        input.extend_from_slice(b"\n\xff\xfe\n");
        let read: NdjsonRead<Patient> = read_ndjson(&input[..]).expect("in-memory read");
        assert_eq!((read.lines, read.resources.len(), read.bad.len()), (2, 1, 1));
        assert!(read.bad[0].reason.contains("UTF-8"));
    }
}
