//! An output directory written atomically.
//!
//! Files are written into a hidden staging directory beside the target
//! (`.NAME.partial-PID`); only [`OutputDir::commit`] renames it into place.
//! A run that fails or is interrupted never leaves a directory that looks
//! complete: at worst a hidden `.partial` directory, removed on drop when
//! the process unwinds normally.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the output directory could not be prepared or completed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The target exists and is not empty, and replacing it was not asked for.
    #[error("--out {}: the directory exists and is not empty; choose another or pass --force to replace it", .0.display())]
    Exists(PathBuf),
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
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |reason| OutputError::Io {
        path: path.to_path_buf(),
        action,
        reason,
    }
}

impl OutputDir {
    /// Prepares to write `target`. Fails at once if `target` is a file or a
    /// non-empty directory (unless `force`), or if its parent is not writable.
    pub fn create(target: &Path, force: bool) -> Result<Self, OutputError> {
        if target.is_file() {
            return Err(OutputError::NotADirectory(target.to_path_buf()));
        }
        if target.is_dir() && !force {
            let mut entries = fs::read_dir(target).map_err(io(target, "read the directory"))?;
            if entries.next().is_some() {
                return Err(OutputError::Exists(target.to_path_buf()));
            }
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if parent.exists() && !parent.is_dir() {
            return Err(OutputError::NotADirectory(parent));
        }
        fs::create_dir_all(&parent).map_err(io(target, "create the parent directory"))?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging, "clear an old staging directory"))?;
        }
        fs::create_dir(&staging).map_err(io(target, "create a directory there"))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            force,
            committed: false,
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
        Ok(())
    }

    /// Moves the staging directory into place. With `force`, an existing
    /// target is moved aside first and removed after the new one is in place.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let mut old = None;
        if self.target.exists() {
            if !self.force
                && fs::read_dir(&self.target)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
            {
                return Err(OutputError::Exists(self.target.clone()));
            }
            let aside = self.staging.with_extension("old");
            fs::rename(&self.target, &aside)
                .map_err(io(&self.target, "move the old directory aside"))?;
            old = Some(aside);
        }
        fs::rename(&self.staging, &self.target)
            .map_err(io(&self.target, "move the output into place"))?;
        self.committed = true;
        if let Some(aside) = old {
            fs::remove_dir_all(&aside).map_err(io(&aside, "remove the old directory"))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
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
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.txt"), "x").unwrap();
        assert!(matches!(
            OutputDir::create(&target, false),
            Err(OutputError::Exists(_))
        ));
        let out = OutputDir::create(&target, true).unwrap();
        out.write("new.txt", b"y").unwrap();
        out.commit().unwrap();
        assert!(!target.join("old.txt").exists());
        assert!(target.join("new.txt").exists());
    }
}
