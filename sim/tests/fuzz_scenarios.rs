//! Structure-aware fuzzing of the loaders behind `cutover validate`.
//!
//! Every bundled file in scenarios/ (scenarios, price books, traces; new
//! files are picked up) is mutated one to three times (see
//! `fuzz/mutate.rs`) and loaded from a copy of the scenarios/ tree, so the
//! files it refers to are there; in some cases the mutated file takes the
//! place of its copy and a bundled file that names it is loaded instead
//! (a topology through its network scenario, a cost scenario through its
//! plan). No input may panic or hang a loader, and
//! every error must say where the problem is: the file, a line and column
//! inside it, and the field unless the text is not TOML at all.
//!
//! The number of cases is `CUTOVER_FUZZ_CASES` (default [`DEFAULT_CASES`]);
//! `PROPTEST_RNG_SEED` repeats a run. A long run:
//! `CUTOVER_FUZZ_CASES=200000 cargo test --release -p cutover --test fuzz_scenarios`.

#[path = "fuzz/mutate.rs"]
mod mutate;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cutover::scenario::InputError;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases in a default `cargo test` run. Measured on the project's 2-core
/// machine in a debug build (`time` on the test binary): 6,000 cases took
/// 8.9 s of CPU, 44 s of wall time while the machine's load was 11.
const DEFAULT_CASES: u32 = 6000;

/// A loader that has not answered after this long is taken to hang; each
/// bundled file loads in under 0.1 s in a debug build (`cutover validate`).
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Loads `path` with the loader `cutover validate` uses for it.
fn load_any(path: &Path) -> Result<(), InputError> {
    cutover::load::load_file(path).map(drop)
}

/// The bundled scenarios/ directory.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every `.toml` and `.csv` file under `dir`, relative to it, sorted.
fn bundled_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("scenarios/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml" || e == "csv") {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Copies the files of `from` (recursively) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read scenarios/") {
        let path = entry.expect("a directory entry").path();
        let dest = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy a file");
        }
    }
}

/// Runs `load_any` on its own thread: `Err` if it panicked or did not
/// answer within [`TIME_LIMIT`].
fn load_guarded(path: &Path) -> Result<Result<(), InputError>, String> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| load_any(&path));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(TIME_LIMIT) {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(panic)) => Err(format!(
            "the loader panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
        Err(_) => Err(format!("the loader did not answer within {TIME_LIMIT:?}")),
    }
}

/// Why `err`, returned when loading a file, fails to say where the problem
/// is; `None` when it says.
///
/// A located error names a file that exists (the file loaded or one it
/// refers to), a line and column inside that file's text, and a field, unless the
/// text is not TOML at all (then the parser's line and column are the
/// location) or the problem is the whole file (a missing section, which
/// the message names).
fn unlocated(err: &InputError) -> Option<String> {
    let shown = err.to_string();
    let fe = match err {
        InputError::Field(fe) => fe,
        InputError::Read { .. } => return Some(format!("no line and column: {shown}")),
    };
    let Ok(bytes) = std::fs::read(&fe.file) else {
        return Some(format!("names a file that cannot be read: {shown}"));
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(line) = fe.line.checked_sub(1).and_then(|l| lines.get(l)) else {
        return Some(format!("line {} is not in the file: {shown}", fe.line));
    };
    if fe.column == 0 || fe.column > line.chars().count() + 1 {
        return Some(format!("column {} is not on its line: {shown}", fe.column));
    }
    let prefix = format!("{}:{}:{}: ", fe.file.display(), fe.line, fe.column);
    if !shown.starts_with(&prefix) || fe.message.trim().is_empty() {
        return Some(format!("does not read `{prefix}` and a message: {shown}"));
    }
    let is_toml =
        std::str::from_utf8(&bytes).is_ok_and(|t| t.parse::<toml_edit::DocumentMut>().is_ok());
    let csv = fe.file.extension().is_some_and(|e| e == "csv");
    if fe.field.is_empty() && is_toml && !csv && !names_a_section(&fe.message) {
        return Some(format!("names no field: {shown}"));
    }
    None
}

/// Whether `message` is about a whole-file problem and names the section
/// concerned in backquotes or brackets.
fn names_a_section(message: &str) -> bool {
    let named = |open: char, close: char| {
        message
            .split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .is_some_and(|(name, _)| !name.trim().is_empty())
    };
    named('`', '`') || named('[', ']')
}

/// What a run exercised, to show it was not vacuous.
#[derive(Default)]
struct Tally {
    files: BTreeMap<PathBuf, u32>,
    kinds: BTreeMap<&'static str, u32>,
    through_referrers: u32,
    loaded: u32,
    errors: u32,
    with_field: u32,
}

/// One case: a bundled file, its mutations, and whether it is loaded
/// through a file that names it.
struct Case<'a> {
    file: &'a Path,
    mutations: &'a [mutate::Mutation],
    /// A bundled file naming `file` (a scenario naming its topology, trace,
    /// price book, catchment or cost scenario): the mutated file then
    /// replaces its copy in the tree and this file is loaded.
    via: Option<&'a Path>,
}

/// Mutates the case's file, writes it beside the files it refers to (or in
/// place of its copy, to load it through a file that names it), loads it
/// and checks the outcome.
fn run_case(tree: &Path, case: &Case, tally: &RefCell<Tally>) -> Result<(), TestCaseError> {
    let file = tree.join(case.file);
    let original = std::fs::read(&file).expect("read the copy");
    let csv = case.file.extension().is_some_and(|e| e == "csv");
    let mut bytes = original.clone();
    let mut t = tally.borrow_mut();
    *t.files.entry(case.file.to_path_buf()).or_default() += 1;
    for m in case.mutations {
        if mutate::apply(&mut bytes, m, csv) {
            *t.kinds.entry(m.kind()).or_default() += 1;
        }
    }
    let (written, entry) = match case.via {
        Some(via) => {
            t.through_referrers += 1;
            (file.clone(), tree.join(via))
        }
        None => {
            let name = if csv {
                "fuzz-case.csv"
            } else {
                "fuzz-case.toml"
            };
            let path = file.with_file_name(name);
            (path.clone(), path)
        }
    };
    std::fs::write(&written, &bytes).expect("write the case");
    let verdict = check(load_guarded(&entry), &mut t);
    if case.via.is_some() {
        std::fs::write(&written, &original).expect("restore the copy");
    }
    let shown = || {
        let text = String::from_utf8_lossy(&bytes);
        let cut: String = text.chars().take(4000).collect();
        let via = case.via.map_or(String::new(), |v| {
            format!(" (loaded through {})", v.display())
        });
        format!(
            "{}{via} mutated by {:?}:\n{cut}",
            case.file.display(),
            case.mutations
        )
    };
    verdict.map_err(|why| TestCaseError::fail(format!("{why}\n{}", shown())))
}

/// What is wrong with the outcome of loading a file, if anything; done
/// while the files are as they were loaded.
fn check(outcome: Result<Result<(), InputError>, String>, t: &mut Tally) -> Result<(), String> {
    match outcome? {
        Ok(()) => {
            t.loaded += 1;
            Ok(())
        }
        Err(err) => {
            t.errors += 1;
            if matches!(&err, InputError::Field(fe) if !fe.field.is_empty()) {
                t.with_field += 1;
            }
            unlocated(&err).map_or(Ok(()), Err)
        }
    }
}

/// For each bundled file, the bundled files that name it in quotes: by its
/// path relative to scenarios/, or relative to the naming file's folder
/// (`"estate.toml"` beside it, `"../edge-topology.toml"` one folder up).
fn referrers(dir: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "toml"))
        .map(|f| {
            (
                f.clone(),
                std::fs::read_to_string(dir.join(f)).expect("read"),
            )
        })
        .collect();
    files
        .iter()
        .map(|f| {
            let names_f = texts
                .iter()
                .filter(|(other, text)| {
                    other != f
                        && reference_forms(f, other)
                            .iter()
                            .any(|q| text.contains(&format!("\"{q}\"")))
                })
                .map(|(other, _)| other.clone())
                .collect();
            (f.clone(), names_f)
        })
        .collect()
}

/// How `from` may write a reference to `f` (both relative to scenarios/).
fn reference_forms(f: &Path, from: &Path) -> Vec<String> {
    let dir = from.parent().unwrap_or(Path::new(""));
    let mut forms = vec![f.display().to_string()];
    if let Ok(rel) = f.strip_prefix(dir) {
        forms.push(rel.display().to_string());
    }
    if dir.components().count() == 1 {
        forms.push(format!("../{}", f.display()));
    }
    forms
}

fn cases() -> u32 {
    std::env::var("CUTOVER_FUZZ_CASES").map_or(DEFAULT_CASES, |v| {
        v.parse()
            .expect("CUTOVER_FUZZ_CASES is a whole number of cases")
    })
}

#[test]
fn mutated_bundled_files_never_panic_or_hang_and_every_error_is_located() {
    let files = bundled_files(&scenarios_dir());
    assert!(files.len() >= 20, "bundled files: {files:?}");
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let tree = tmp.path().join("scenarios");
    copy_tree(&scenarios_dir(), &tree);
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = RefCell::new(Tally::default());
    let referrers = referrers(&scenarios_dir(), &files);
    let strategy = (
        any::<Index>(),
        prop::collection::vec(mutate::mutation(), 1..=3),
        prop::option::weighted(0.3, any::<Index>()),
    );
    let result = runner.run(&strategy, |(file, mutations, via)| {
        let file = &files[file.index(files.len())];
        let names_file = &referrers[file];
        let via = via
            .filter(|_| !names_file.is_empty())
            .map(|i| names_file[i.index(names_file.len())].as_path());
        let case = Case {
            file,
            mutations: &mutations,
            via,
        };
        run_case(&tree, &case, &tally)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = tally.into_inner();
    eprintln!(
        "{cases} cases ({} through a file naming the mutated one): {} loaded, {} errors \
         ({} naming a field); files {:?}; mutations {:?}",
        t.through_referrers, t.loaded, t.errors, t.with_field, t.files, t.kinds
    );
    // The run reached every file and every kind of mutation, and most
    // mutations made the file wrong (else the checks above saw little).
    if cases >= 1000 {
        assert_eq!(t.files.len(), files.len(), "files not reached");
        assert_eq!(t.kinds.len(), mutate::KINDS.len(), "mutations not applied");
        assert!(t.through_referrers > 0, "no file loaded through another");
    }
    assert!(t.errors * 2 > cases, "only {} of {cases} failed", t.errors);
    assert!(t.with_field * 3 > t.errors, "few errors name a field");
}

#[test]
fn the_location_check_refuses_unlocated_errors() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let case = tmp.path().join("s.toml");
    std::fs::write(&case, "[mmc]\nservers = 4\n").expect("write");
    let err = |line, column, field: &str, message: &str| {
        InputError::Field(Box::new(cutover::scenario::FieldError {
            file: case.clone(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }))
    };
    assert_eq!(unlocated(&err(2, 11, "mmc.servers", "too few")), None);
    assert_eq!(unlocated(&err(1, 1, "", "missing field `scenario`")), None);
    for bad in [
        err(1, 1, "", "number too large to fit in target type"),
        err(9, 1, "mmc.servers", "too few"),
        err(0, 1, "mmc.servers", "too few"),
        err(2, 40, "mmc.servers", "too few"),
        err(2, 11, "mmc.servers", " "),
    ] {
        assert!(unlocated(&bad).is_some(), "{bad}");
    }
    let read = InputError::Read {
        path: case.clone(),
        reason: std::io::Error::other("stream did not contain valid UTF-8"),
    };
    assert!(unlocated(&read).is_some());
}
