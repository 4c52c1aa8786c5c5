//! Policies are data: the shipped `reference/disclosure.toml`, any other file of the same form,
//! and the errors a malformed file gives (file, line, column, key, what was expected).

use phm_disclosure::{Error, Policy, PolicySet, Rounding};

/// Parses `text` and returns the error's rendering, or panics with what parsed instead.
fn error_of(text: &str) -> String {
    match PolicySet::parse("policies.toml", text) {
        Ok(set) => panic!("expected an error, got {set:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_file_has_the_public_and_analyst_policies() {
    let set = PolicySet::builtin().expect("reference/disclosure.toml parses");
    assert_eq!(set.names().collect::<Vec<_>>(), ["analyst", "public"]);

    // NHS England's rule for published hospital statistics: 1–7 suppressed, others to the nearest 5.
    let public = set.get("public").expect("public");
    assert_eq!((public.threshold(), public.complement(), public.rounding()), (7, true, Rounding::Nearest { base: 5 }));

    // Analysts: suppression without rounding.
    let analyst = set.get("analyst").expect("analyst");
    assert_eq!((analyst.threshold(), analyst.complement(), analyst.rounding()), (7, false, Rounding::None));

    assert_eq!(Policy::builtin("public").expect("public"), *public);
}

#[test]
fn the_shipped_file_on_disk_is_the_one_compiled_in() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reference/disclosure.toml");
    let loaded = PolicySet::load(&path).expect("loads");
    assert_eq!(loaded.policies(), PolicySet::builtin().expect("builtin").policies());
}

#[test]
fn an_unknown_policy_name_lists_the_known_ones() {
    let err = Policy::builtin("publc").expect_err("no such policy");
    assert_eq!(err.to_string(), "No disclosure policy `publc` in reference/disclosure.toml (it has: analyst, public)");
}

#[test]
fn a_policy_can_be_loaded_from_any_other_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("research.toml");
    std::fs::write(&path, "[policies.research]\nthreshold = 0\nrounding = \"midpoint\"\nbase = 6\n").expect("write");
    let set = PolicySet::load(&path).expect("loads");
    let research = set.get("research").expect("research");
    // `complement` may be left out: it defaults to on, the safer choice.
    assert_eq!(
        (research.threshold(), research.complement(), research.rounding()),
        (0, true, Rounding::Midpoint { base: 6 })
    );
}

#[test]
fn a_missing_file_is_named() {
    let err = PolicySet::load(std::path::Path::new("/nonexistent/policies.toml")).expect_err("no file");
    assert!(matches!(err, Error::Read { .. }));
    assert_eq!(err.to_string(), "Failed to read disclosure policy file `/nonexistent/policies.toml`");
}

#[test]
fn a_misspelt_rounding_mode_names_the_key_and_the_choices() {
    let text = "[policies.public]\nthreshold = 7\nrounding = \"nearst\"\nbase = 5\n";
    assert_eq!(
        error_of(text),
        "policies.toml:3:12: `policies.public.rounding`: expected \"none\", \"nearest\" or \"midpoint\"; found the string \"nearst\""
    );
}

#[test]
fn a_misspelt_key_is_unknown() {
    let text = "[policies.public]\nthresold = 7\nrounding = \"none\"\n";
    assert_eq!(
        error_of(text),
        "policies.toml:2:1: `policies.public.thresold`: unknown key; expected one of `threshold`, `complement`, `rounding`, `base`"
    );
}

#[test]
fn rounding_to_a_base_needs_the_base() {
    let text = "[policies.public]\nthreshold = 7\nrounding = \"nearest\"\n";
    assert_eq!(
        error_of(text),
        "policies.toml:1:1: `policies.public.base`: missing; expected a whole number ≥ 2 to round to (`rounding = \"nearest\"`)"
    );
}

#[test]
fn no_rounding_takes_no_base() {
    let text = "[policies.analyst]\nthreshold = 7\nrounding = \"none\"\nbase = 5\n";
    assert_eq!(
        error_of(text),
        "policies.toml:4:8: `policies.analyst.base`: not allowed with `rounding = \"none\"`; remove it"
    );
}

#[test]
fn a_base_below_two_is_refused() {
    let text = "[policies.p]\nthreshold = 7\nrounding = \"midpoint\"\nbase = 1\n";
    assert_eq!(error_of(text), "policies.toml:4:8: `policies.p.base`: expected a whole number ≥ 2; found 1");
}

#[test]
fn the_threshold_is_a_whole_number() {
    for (value, found) in [("-1", "the integer -1"), ("7.5", "the number 7.5"), ("\"7\"", "the string \"7\"")] {
        let text = format!("[policies.p]\nthreshold = {value}\nrounding = \"none\"\n");
        assert_eq!(
            error_of(&text),
            format!("policies.toml:2:13: `policies.p.threshold`: expected a whole number ≥ 0; found {found}")
        );
    }
    let text = "[policies.p]\nrounding = \"none\"\n";
    assert_eq!(
        error_of(text),
        "policies.toml:1:1: `policies.p.threshold`: missing; expected a whole number ≥ 0 (counts from 1 to it are suppressed)"
    );
}

#[test]
fn the_complement_flag_is_a_boolean() {
    let text = "[policies.p]\nthreshold = 7\ncomplement = \"yes\"\nrounding = \"none\"\n";
    assert_eq!(
        error_of(text),
        "policies.toml:3:14: `policies.p.complement`: expected true or false; found the string \"yes\""
    );
}

#[test]
fn the_file_holds_policies_and_nothing_else() {
    assert_eq!(error_of("threshold = 7\n"), "policies.toml:1:1: `threshold`: unknown key; expected one of `policies`");
    assert_eq!(
        error_of("# nothing\n"),
        "policies.toml:1:1: `policies`: expected a `[policies.<name>]` table; found none"
    );
    assert_eq!(error_of("policies = 3\n"), "policies.toml:1:12: `policies`: expected a table; found the integer 3");
    assert_eq!(
        error_of("[policies]\n"),
        "policies.toml:1:1: `policies`: expected at least one `[policies.<name>]` table"
    );
    assert_eq!(
        error_of("[policies.Public]\nthreshold = 7\nrounding = \"none\"\n"),
        "policies.toml:1:11: `policies.Public`: expected a policy name of lowercase letters, digits, `_` and `-`"
    );
}

#[test]
fn invalid_toml_gives_the_line_and_column() {
    let err =
        PolicySet::parse("policies.toml", "[policies.p]\nthreshold = 7\nrounding = none\n").expect_err("bare word");
    let Error::Syntax { origin, line, column, .. } = &err else { panic!("expected a syntax error, got {err:?}") };
    assert_eq!((origin.as_str(), *line, *column), ("policies.toml", 3, 12));
}

#[test]
fn a_policy_built_in_code_is_checked_too() {
    let err = Policy::new("p", 7, true, Rounding::Nearest { base: 0 }).expect_err("base 0");
    assert_eq!(err.to_string(), "Invalid disclosure policy `p`: the rounding base must be a whole number ≥ 2, not 0");
}

#[test]
fn nearest_rounding_rounds_halves_up_and_keeps_zero() {
    let five = Rounding::Nearest { base: 5 };
    let rounded: Vec<u64> = [0, 2, 3, 8, 12, 13, 17, 18, 1002].iter().map(|&x| five.apply(x)).collect();
    assert_eq!(rounded, [0, 0, 5, 10, 10, 15, 15, 20, 1000]);
    assert_eq!(Rounding::Nearest { base: 10 }.apply(15), 20);
    assert_eq!(Rounding::Nearest { base: 10 }.apply(14), 10);
    assert!(five.is_on_grid(0) && five.is_on_grid(15) && !five.is_on_grid(12));
}

#[test]
fn midpoint_six_maps_each_six_wide_band_to_its_midpoint() {
    // OpenSAFELY: zero stays zero, 1–6 → 3, 7–12 → 9, 13–18 → 15; a non-zero x means a true
    // value from x − 2 to x + 3.
    let six = Rounding::Midpoint { base: 6 };
    let rounded: Vec<u64> = (0..=13).map(|x| six.apply(x)).collect();
    assert_eq!(rounded, [0, 3, 3, 3, 3, 3, 3, 9, 9, 9, 9, 9, 9, 15]);
    for x in 1..200 {
        let r = six.apply(x);
        assert!(r - 2 <= x && x <= r + 3, "{x} → {r}");
        assert!(six.is_on_grid(r));
    }
    assert!(six.is_on_grid(0) && !six.is_on_grid(6) && !six.is_on_grid(1));
    // An even width splits at the lower half; an odd one at its exact middle.
    assert_eq!(
        (1..=10).map(|x| Rounding::Midpoint { base: 5 }.apply(x)).collect::<Vec<_>>(),
        [3, 3, 3, 3, 3, 8, 8, 8, 8, 8]
    );
}

#[test]
fn the_summary_describes_each_shipped_policy() {
    assert_eq!(
        Policy::builtin("analyst").expect("analyst").summary(),
        "Counts from 1 to 7 are suppressed, as are figures that would reveal them; counts are not rounded."
    );
    let research = Policy::new("research", 0, false, Rounding::Midpoint { base: 6 }).expect("valid");
    assert_eq!(
        research.summary(),
        "No counts are suppressed; counts are rounded to the midpoint of their 6-wide band."
    );
}

#[test]
fn rounding_may_not_show_a_count_inside_the_suppressed_range() {
    // Threshold 10 with rounding to the nearest 10 would show a count of 11 as 10, which reads
    // like a count the policy suppresses.
    let err = Policy::new("p", 10, true, Rounding::Nearest { base: 10 }).expect_err("11 shows as 10");
    assert_eq!(
        err.to_string(),
        "Invalid disclosure policy `p`: rounding to nearest 10 shows a count of 11 as 10, inside the suppressed range 1–10; \
         lower the threshold or change the rounding"
    );
    assert!(Policy::new("p", 3, true, Rounding::Midpoint { base: 6 }).is_err()); // 4 → 3
    // Counts that round to zero are fine: 1 and 2 show as 0 under rounding to 5 with threshold 0.
    assert!(Policy::new("p", 0, true, Rounding::Nearest { base: 5 }).is_ok());
    assert!(Policy::new("p", 7, true, Rounding::Midpoint { base: 6 }).is_ok()); // 8 → 9
    assert!(Policy::new("p", 9, true, Rounding::Nearest { base: 10 }).is_ok()); // 10 → 10
    // The file gives the same error for the same parameters, with the policy's name.
    let err = PolicySet::parse("p.toml", "[policies.wide]\nthreshold = 10\nrounding = \"nearest\"\nbase = 10\n")
        .expect_err("invalid");
    assert!(err.to_string().starts_with("Invalid disclosure policy `wide`: rounding to nearest 10"), "{err}");
}
