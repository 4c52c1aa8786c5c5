//! Diagnostics a non-programmer can act on: file, line, column, a caret under the problem,
//! what was expected and, for misspelt names, a suggestion. Each case is a snapshot of the
//! rendered text, so a change in wording is reviewed like any other change.

use std::fs;

/// Load `text` as `definitions/example.phm` in a temporary project with one codelist, and
/// render every diagnostic.
fn diagnose(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    fs::create_dir_all(dir.path().join("codelists")).expect("dir");
    fs::create_dir_all(dir.path().join("definitions")).expect("dir");
    fs::write(dir.path().join("codelists/asthma.csv"), "code,term\n195967001,Asthma\n").expect("codelist");
    fs::write(
        dir.path().join("codelists/mangled.csv"),
        "code,term\n195967001,Asthma\n1.95967E+08,Asthma (from a spreadsheet)\n",
    )
    .expect("codelist");
    let path = dir.path().join("definitions/example.phm");
    fs::write(&path, text).expect("definition");
    let loaded = phm_lang::load(&path);
    assert!(loaded.has_errors(), "expected an error for:\n{text}");
    loaded.render().replace(&dir.path().display().to_string(), "<project>")
}

#[test]
fn an_unknown_name_suggests_the_nearest_one() {
    insta::assert_snapshot!(diagnose(
        "codelist asthma = \"codelists/asthma.csv\"\nlet has_asthma = exists(condition where code in asthma)\nlet adults = age >= 18 and has_asthmaa\n"
    ));
}

#[test]
fn a_date_compared_with_a_number_says_how_to_write_a_date() {
    insta::assert_snapshot!(diagnose("let recent = exists(condition where date > 2020)\n"));
}

#[test]
fn an_unknown_codelist_is_named_with_a_suggestion() {
    insta::assert_snapshot!(diagnose(
        "codelist asthma = \"codelists/asthma.csv\"\nlet x = exists(condition where code in asthmaa)\n"
    ));
}

#[test]
fn an_unknown_column_lists_the_table_columns() {
    insta::assert_snapshot!(diagnose("let x = last(observation).valeu\n"));
}

#[test]
fn a_codelist_mangled_by_a_spreadsheet_is_reported_with_its_line() {
    insta::assert_snapshot!(diagnose("codelist asthma = \"codelists/mangled.csv\"\n"));
}

#[test]
fn a_missing_codelist_file_and_a_misspelt_keyword_are_both_reported() {
    insta::assert_snapshot!(diagnose(
        "codelist copd = \"codelists/copd.csv\"\ncohrt x { population = registered }\nlet y = age > 1\n"
    ));
}

#[test]
fn rows_used_as_a_value_say_how_to_aggregate_them() {
    insta::assert_snapshot!(diagnose("cohort c {\n  population = condition where code = \"1\"\n}\n"));
}

#[test]
fn an_indicator_without_a_numerator_and_a_wrong_method() {
    insta::assert_snapshot!(diagnose("indicator i {\n  denominator = registered\n  method = proprtion\n}\n"));
}

// Hostile input: nesting, size and paths. Each of these once crashed `phm check` (a stack
// overflow), took minutes, or read a file outside the project.

/// A test project: `definitions/example.phm` holding `text`, beside `codelists/asthma.csv`.
fn project(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    fs::create_dir_all(dir.path().join("codelists")).expect("dir");
    fs::create_dir_all(dir.path().join("definitions")).expect("dir");
    fs::write(dir.path().join("codelists/asthma.csv"), "code,term\n195967001,Asthma\n").expect("codelist");
    let path = dir.path().join("definitions/example.phm");
    fs::write(&path, text).expect("definition");
    (dir, path)
}

/// Loads and renders on a thread with a 512 KiB stack, a quarter of the 2 MiB a Rust thread
/// gets by default (and a sixteenth of a main thread's 8 MiB), in the test profile's larger
/// frames: what passes here cannot overflow there.
fn diagnose_on_a_small_stack(text: String) -> String {
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || diagnose(&text))
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

#[test]
fn three_thousand_brackets_are_refused_past_sixty_four_levels() {
    let text = format!("let deep = {}age{} > 1\n", "(".repeat(3000), ")".repeat(3000));
    insta::assert_snapshot!(diagnose_on_a_small_stack(text));
}

#[test]
fn five_thousand_nots_are_refused_past_sixty_four_levels() {
    let text = format!("let deep = {}registered\n", "not ".repeat(5000));
    insta::assert_snapshot!(diagnose_on_a_small_stack(text));
}

#[test]
fn ten_thousand_terms_joined_by_and_load_and_a_mistake_among_them_is_found() {
    // A chain of `and` (or `or`) is built as a balanced tree, 14 levels deep, not 10,000.
    let terms = |last: &str| format!("let wide = {} and {last}\n", vec!["registered"; 9_999].join(" and "));
    let text = terms("registered");
    let (_dir, path) = project(&text);
    let loaded = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || phm_lang::load(&path))
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render());
    // The long line is shown around the mistake, not whole.
    insta::assert_snapshot!(diagnose_on_a_small_stack(terms("registerd")));
}

#[test]
fn ten_thousand_terms_joined_by_plus_are_refused_where_they_get_too_deep() {
    // `+`, `-`, `*`, `/`, `otherwise` and `where` are not regrouped: a chain of them nests.
    let text = format!("let long = {} > 1\n", vec!["age"; 10_000].join(" + "));
    insta::assert_snapshot!(diagnose_on_a_small_stack(text));
}

#[test]
fn nesting_up_to_the_limit_loads() {
    let depth = phm_lang::ast::MAX_NESTING - 2;
    for text in [
        format!("let deep = {}age{} > 1\n", "(".repeat(depth), ")".repeat(depth)),
        format!("let deep = {}registered\n", "not ".repeat(depth)),
        format!("let long = {} > 1\n", vec!["age"; depth].join(" + ")),
    ] {
        let (_dir, path) = project(&text);
        let loaded = std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(move || phm_lang::load(&path))
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(loaded.diagnostics.is_empty(), "{}", loaded.render());
    }
}

#[test]
fn lets_built_on_lets_too_deeply_are_refused() {
    let mut text = "let a0 = registered\n".to_owned();
    for i in 1..400 {
        text += &format!("let a{i} = not a{}\n", i - 1);
    }
    let out = diagnose_on_a_small_stack(text);
    // `registered` is a few levels deep already; each `not` adds one.
    let first = out.lines().next().expect("a diagnostic");
    assert!(
        first.starts_with("error: `a2")
            && first.ends_with("` nests deeper than 256 levels once the `let`s it uses are put in"),
        "{out}"
    );
}

#[test]
fn lets_that_double_at_each_step_are_refused_before_they_fill_memory() {
    // 2^60 nodes if each use were copied without limit.
    let mut text = "let a0 = age > 1\n".to_owned();
    for i in 1..60 {
        text += &format!("let a{i} = a{0} and a{0}\n", i - 1);
    }
    let out = diagnose_on_a_small_stack(text);
    assert!(out.contains("makes the definitions larger than 2000000 model nodes"), "{out}");
}

/// About `bytes` of definitions in which three lines in four have a mistake: a misspelt name
/// (the costliest, for the suggestion), a type error or a syntax error.
fn many_mistakes(bytes: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&match i % 4 {
            0 => format!("let ok_{i} = age > {i}\n"),
            1 => format!("let misspelt_{i} = agee > {i}\n"),
            2 => format!("let typed_{i} = sex > {i}\n"),
            _ => format!("let broken_{i} = (age > \n"),
        });
        i += 1;
    }
    s
}

#[test]
fn a_900_kb_file_of_mistakes_shows_the_first_hundred_and_counts_the_rest() {
    // Not timed: `cargo test -p phm-lang --test it -- diagnostics:: --ignored --nocapture` times
    // it (45.9 s before the cap and the line index, 0.17 s after).
    let text = many_mistakes(900_000);
    let lines = text.lines().count();
    let (_dir, path) = project(&text);
    let loaded = phm_lang::load(&path);
    assert_eq!(loaded.diagnostics.len(), phm_lang::MAX_KEPT);
    // Every line but the good ones has one error: 3 in 4, however many were kept.
    assert_eq!(loaded.error_count(), lines - lines.div_ceil(4));
    let out = loaded.render();
    assert_eq!(out.matches("\nerror: ").count() + usize::from(out.starts_with("error: ")), phm_lang::MAX_RENDERED);
    let last = out.lines().rev().find(|l| !l.is_empty()).expect("a last line");
    assert_eq!(
        last,
        format!(
            "... and {} more errors not shown (the first 100 are above; fix them and check again)",
            loaded.error_count() - 100
        )
    );
}

#[test]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
fn measure_a_900_kb_file_of_mistakes() {
    let text = many_mistakes(900_000);
    let (_dir, path) = project(&text);
    let t = std::time::Instant::now();
    let loaded = phm_lang::load(&path);
    let load = t.elapsed();
    let t = std::time::Instant::now();
    let rendered = loaded.render();
    eprintln!(
        "{} bytes, {} errors: load {load:.2?}, render {:.2?} ({} bytes rendered)",
        text.len(),
        loaded.error_count(),
        t.elapsed(),
        rendered.len()
    );
}

#[test]
fn lines_are_counted_right_after_blank_lines_and_in_crlf_files() {
    for text in
        ["\n\n\nlet x = agee > 1\n", "\r\n\r\n\r\nlet x = agee > 1\r\n", "# a comment\n  \n\nlet x = agee > 1\n"]
    {
        let out = diagnose(text);
        assert!(out.contains("example.phm:4:9\n"), "{text:?}:\n{out}");
        assert!(out.contains("\n4 | let x = agee > 1\n"), "{text:?}:\n{out}");
    }
}

#[test]
fn paths_outside_the_project_devices_pipes_and_huge_files_are_refused_unread() {
    let outside = tempfile::tempdir().expect("tmp");
    fs::write(outside.path().join("secret.csv"), "code\nSECRET-OUTSIDE\n").expect("secret");
    let escape = format!("../../{}/secret.csv", outside.path().file_name().and_then(|n| n.to_str()).expect("name"));
    let text = format!(
        "codelist absolute = \"/etc/passwd\"\n\
         codelist dots = \"{escape}\"\n\
         codelist linked = \"codelists/linked.csv\"\n\
         codelist zero = \"codelists/zero.csv\"\n\
         codelist pipe = \"codelists/pipe.csv\"\n\
         codelist folder = \"codelists/folder.csv\"\n\
         codelist huge = \"codelists/huge.csv\"\n\
         codelist shadow = \"codelists/shadow.csv\"\n\
         codelist text = \"codelists/notes.txt\"\n\
         import \"library/pipe.phm\"\n\
         import \"library/huge.phm\"\n\
         import \"codelists/asthma.csv\"\n"
    );
    let (dir, path) = project(&text);
    let codelists = dir.path().join("codelists");
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), codelists.join("linked.csv")).expect("link");
    std::os::unix::fs::symlink("/dev/zero", codelists.join("zero.csv")).expect("link");
    let fifo =
        |p: &std::path::Path| assert!(std::process::Command::new("mkfifo").arg(p).status().expect("mkfifo").success());
    fifo(&codelists.join("pipe.csv"));
    fs::create_dir(codelists.join("folder.csv")).expect("dir");
    let huge = fs::File::create(codelists.join("huge.csv")).expect("huge");
    huge.set_len(phm_codelists::MAX_CODELIST_BYTES + 1).expect("sparse");
    // A file inside the project that is not a codelist: its first line is not shown.
    fs::write(codelists.join("shadow.csv"), "root:$6$SALTSALT$HASHHASH:19000:0:99999:7:::\n").expect("shadow");
    fs::write(codelists.join("notes.txt"), "code\n195967001\n").expect("notes");
    fs::create_dir_all(dir.path().join("definitions/library")).expect("dir");
    fifo(&dir.path().join("definitions/library/pipe.phm"));
    let big = fs::File::create(dir.path().join("definitions/library/huge.phm")).expect("huge");
    big.set_len(phm_lang::MAX_DEFINITION_BYTES + 1).expect("sparse");

    let loaded = phm_lang::load(&path);
    let out = loaded
        .render()
        .replace(&dir.path().display().to_string(), "<project>")
        .replace(&escape, "../../<outside>/secret.csv");
    for secret in ["SECRET-OUTSIDE", "SALTSALT", "HASHHASH", "root:"] {
        assert!(!out.contains(secret), "{secret} was shown:\n{out}");
    }
    insta::assert_snapshot!(out);
}
