//! An output directory written atomically, replaced only if cutover wrote it.
//!
//! Files are written into a hidden staging directory beside the target
//! (`.NAME.partial-PID`); only [`OutputDir::commit`] renames it into place.
//! A run that fails or is interrupted never leaves a directory that looks
//! complete: the staging directory is removed on drop, on Ctrl-C or SIGTERM
//! (see [`staging`]), and, after a death nothing can catch,
//! by the next run beside the same target.
//!
//! Every committed directory holds `run-info.json` with `"tool": "cutover"`
//! and the list of the files written (`"files"`). `--force` replaces an
//! existing directory only when that manifest is there and the directory
//! holds nothing but those files (and `report.html`, which `cutover report`
//! adds): a file cutover did not write is never deleted.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::staging;

/// The manifest file every output directory holds.
pub const MANIFEST: &str = "run-info.json";
/// The value of the manifest's `tool` field.
const TOOL: &str = "cutover";
/// Files that cutover adds to an output directory after it is committed.
const ADDED_LATER: [&str; 1] = ["report.html"];

/// Why the output directory could not be prepared or completed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The target exists and is not empty, and replacing it was not asked for.
    #[error("--out {}: the directory exists and is not empty; choose another or pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// The target exists but is not a directory cutover wrote.
    #[error("--out {}: --force replaces only a directory written by cutover, and this one {reason}; choose another directory or move this one away yourself", path.display())]
    NotOurs {
        /// The target.
        path: PathBuf,
        /// Why it is not recognised.
        reason: String,
    },
    /// The target path names a file, not a directory.
    #[error("--out {}: a file with that name exists; allowed: a new or empty directory", .0.display())]
    NotADirectory(PathBuf),
    /// A file system operation failed.
    #[error("--out {}: cannot {action}: {reason}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The system's reason.
        reason: std::io::Error,
    },
}

/// A staging directory that becomes the output directory on commit.
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
    committed: bool,
    written: Mutex<BTreeSet<String>>,
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |reason| OutputError::Io {
        path: path.to_path_buf(),
        action,
        reason,
    }
}

/// Whether `dir` has no entries (an unreadable directory counts as full).
fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

/// Checks that `target` may be replaced: a directory that is empty, or that
/// holds a cutover manifest and only the files it lists.
fn check_replaceable(target: &Path) -> Result<(), OutputError> {
    let not_ours = |reason: String| OutputError::NotOurs {
        path: target.to_path_buf(),
        reason,
    };
    if is_empty_dir(target) {
        return Ok(());
    }
    let text = fs::read_to_string(target.join(MANIFEST))
        .map_err(|_| not_ours(format!("has no {MANIFEST}")))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| not_ours(format!("has a {MANIFEST} that cutover did not write")))?;
    if manifest.get("tool").and_then(|t| t.as_str()) != Some(TOOL) {
        return Err(not_ours(format!(
            "has a {MANIFEST} without \"tool\": \"{TOOL}\""
        )));
    }
    let listed: BTreeSet<&str> = manifest
        .get("files")
        .and_then(|f| f.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let entries = fs::read_dir(target).map_err(io(target, "read the directory"))?;
    for entry in entries {
        let entry = entry.map_err(io(target, "read the directory"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        let ours = listed.contains(name.as_str()) || ADDED_LATER.contains(&name.as_str());
        if !(is_file && ours) {
            return Err(not_ours(format!(
                "holds `{name}`, which cutover did not write"
            )));
        }
    }
    Ok(())
}

impl OutputDir {
    /// Prepares to write `target`. Fails at once if `target` is a file or a
    /// non-empty directory (unless `force` and cutover wrote it), or if its
    /// parent is not writable. Removes staging directories beside it that
    /// dead processes left.
    pub fn create(target: &Path, force: bool) -> Result<Self, OutputError> {
        if target.exists() && !target.is_dir() {
            return Err(OutputError::NotADirectory(target.to_path_buf()));
        }
        if target.is_dir() && !is_empty_dir(target) {
            if !force {
                return Err(OutputError::Exists(target.to_path_buf()));
            }
            check_replaceable(target)?;
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| OutputError::NotOurs {
                path: target.to_path_buf(),
                reason: "has no name of its own (such as `.` or `..`)".to_string(),
            })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if parent.exists() && !parent.is_dir() {
            return Err(OutputError::NotADirectory(parent));
        }
        fs::create_dir_all(&parent).map_err(io(target, "create the parent directory"))?;
        staging::remove_stale(&parent, &name);
        let staging = parent.join(staging::staging_name(&name, std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging, "clear an old staging directory"))?;
        }
        fs::create_dir(&staging).map_err(io(target, "create a directory there"))?;
        staging::register(&staging);
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            force,
            committed: false,
            written: Mutex::new(BTreeSet::new()),
        })
    }

    /// The directory the output will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes `name` (a plain file name) into the staging directory.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        let mut file = fs::File::create(&path).map_err(io(&self.target, "create a file"))?;
        file.write_all(bytes)
            .map_err(io(&self.target, "write a file"))?;
        file.sync_all().map_err(io(&self.target, "flush a file"))?;
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
        Ok(())
    }

    /// Adds `"tool": "cutover"` and the list of files written to the run's
    /// `run-info.json` (writing one if the run did not).
    fn write_manifest(&self) -> Result<(), OutputError> {
        let path = self.staging.join(MANIFEST);
        let mut manifest = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Map<_, _>>(&t).ok())
            .unwrap_or_default();
        let mut files: BTreeSet<String> = self
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        files.insert(MANIFEST.to_string());
        manifest.insert("tool".into(), TOOL.into());
        manifest.insert("cutover_version".into(), env!("CARGO_PKG_VERSION").into());
        manifest.insert("files".into(), files.into_iter().collect());
        let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        text.push('\n');
        self.write(MANIFEST, text.as_bytes())
    }

    /// Moves the staging directory into place. With `force`, an existing
    /// target that cutover wrote is moved aside first and removed after the
    /// new one is in place. Interruptions wait until this is done.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        self.write_manifest()?;
        let mut registry = staging::registry();
        let mut old = None;
        if self.target.exists() {
            if !is_empty_dir(&self.target) {
                if !self.force {
                    return Err(OutputError::Exists(self.target.clone()));
                }
                check_replaceable(&self.target)?;
            }
            let mut aside = self.staging.clone().into_os_string();
            aside.push(".old");
            let aside = PathBuf::from(aside);
            fs::rename(&self.target, &aside)
                .map_err(io(&self.target, "move the old directory aside"))?;
            old = Some(aside);
        }
        fs::rename(&self.staging, &self.target)
            .map_err(io(&self.target, "move the output into place"))?;
        self.committed = true;
        staging::unregister(&mut registry, &self.staging);
        drop(registry);
        if let Some(aside) = old {
            fs::remove_dir_all(&aside).map_err(io(&aside, "remove the old directory"))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let mut registry = staging::registry();
            let _ = fs::remove_dir_all(&self.staging);
            staging::unregister(&mut registry, &self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        let out = OutputDir::create(&target, false).unwrap();
        out.write("summary.json", b"{}").unwrap();
        assert!(!target.exists());
        out.commit().unwrap();
        assert_eq!(fs::read(target.join("summary.json")).unwrap(), b"{}");
    }

    #[test]
    fn a_dropped_output_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        {
            let out = OutputDir::create(&target, false).unwrap();
            out.write("summary.json", b"{}").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_existing_directory_needs_force() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        let out = OutputDir::create(&target, false).unwrap();
        out.write("old.txt", b"x").unwrap();
        out.commit().unwrap();
        assert!(matches!(
            OutputDir::create(&target, false),
            Err(OutputError::Exists(_))
        ));
        let out = OutputDir::create(&target, true).unwrap();
        out.write("new.txt", b"y").unwrap();
        out.commit().unwrap();
        assert!(!target.join("old.txt").exists());
        assert!(target.join("new.txt").exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn force_refuses_a_directory_cutover_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("mine");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("thesis.tex"), "x").unwrap();
        let err = OutputDir::create(&target, true).err().unwrap().to_string();
        assert!(err.contains("has no run-info.json"), "{err}");
        fs::write(target.join(MANIFEST), r#"{"files": ["thesis.tex"]}"#).unwrap();
        let err = OutputDir::create(&target, true).err().unwrap().to_string();
        assert!(err.contains("without \"tool\": \"cutover\""), "{err}");
        assert!(target.join("thesis.tex").exists());
    }

    #[test]
    fn force_refuses_an_output_with_a_file_added_by_hand() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        let out = OutputDir::create(&target, false).unwrap();
        out.write("summary.json", b"{}").unwrap();
        out.commit().unwrap();
        fs::write(target.join("report.html"), "page").unwrap();
        fs::write(target.join("notes.md"), "mine").unwrap();
        let err = OutputDir::create(&target, true).err().unwrap().to_string();
        assert!(err.contains("holds `notes.md`"), "{err}");
        fs::remove_file(target.join("notes.md")).unwrap();
        OutputDir::create(&target, true).unwrap().commit().unwrap();
        assert!(!target.join("report.html").exists());
    }

    #[test]
    fn the_manifest_lists_the_files_and_keeps_the_run_facts() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        let out = OutputDir::create(&target, false).unwrap();
        out.write("b.csv", b"").unwrap();
        out.write(MANIFEST, br#"{"seed": 7}"#).unwrap();
        out.commit().unwrap();
        let text = fs::read_to_string(target.join(MANIFEST)).unwrap();
        let m: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(m["tool"], "cutover");
        assert_eq!(m["seed"], 7);
        assert_eq!(m["files"], serde_json::json!(["b.csv", "run-info.json"]));
    }
}
