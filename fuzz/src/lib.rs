//! What the fuzz targets share: the loaders behind `cutover validate` and a
//! copy of the bundled scenarios/ tree for the files a scenario refers to.

use std::path::{Path, PathBuf};

use cutover::scenario::InputError;

/// Loads `path` with the loader `cutover validate` uses for it.
pub fn load_any(path: &Path) -> Result<(), InputError> {
    cutover::load::load_file(path).map(drop)
}

/// A copy of scenarios/ under the fuzz crate's target directory, made once
/// and shared by every fuzzing process, so that inputs written into it find
/// the topology, traces, price books and scenarios they name.
pub fn scenario_tree() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = here.join("target/scenario-tree");
    if !tree.join(".complete").exists() {
        let staging = here.join(format!("target/scenario-tree.{}", std::process::id()));
        copy_tree(&here.join("../scenarios"), &staging);
        std::fs::write(staging.join(".complete"), "").expect("mark the copy");
        // Another process may have finished first; either copy will do.
        if std::fs::rename(&staging, &tree).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
    tree
}

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

/// Writes `data` as a file named `name` (plus this process's id) in the
/// scenario tree, loads it, checks that an error is located, and removes
/// the file.
pub fn load_bytes(tree: &Path, name: &str, data: &[u8]) {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "toml"));
    let path = tree.join(format!("{stem}-{}.{ext}", std::process::id()));
    std::fs::write(&path, data).expect("write the input");
    if let Err(err) = load_any(&path) {
        assert_located(&path, &err);
    }
    let _ = std::fs::remove_file(&path);
}

/// Panics (a crash for AFL++) unless `err`, from loading `input`, names a
/// file that exists, a line and a column inside it, and a message. (The
/// stricter check of sim/tests/fuzz_scenarios.rs also wants the field.)
pub fn assert_located(input: &Path, err: &InputError) {
    let fe = match err {
        InputError::Read { path, .. } => {
            assert!(path != input, "the input was not read: {err}");
            return;
        }
        InputError::Field(fe) => fe,
    };
    let bytes = std::fs::read(&fe.file).unwrap_or_else(|_| panic!("no such file: {err}"));
    let text = String::from_utf8_lossy(&bytes);
    let line = text
        .split('\n')
        .nth(fe.line.wrapping_sub(1))
        .unwrap_or_else(|| panic!("the line is not in the file: {err}"));
    let columns = 1..=line.chars().count() + 1;
    assert!(
        columns.contains(&fe.column),
        "the column is not on its line: {err}"
    );
    assert!(!fe.message.trim().is_empty(), "no message: {err}");
}
