//! Staging directories that must not outlive their run.
//!
//! [`OutputDir`](super::OutputDir) writes into `.NAME.partial-PID` beside
//! the target. A run that ends normally removes it (commit or drop); this
//! module covers the other endings:
//! - an interruption (Ctrl-C, SIGTERM, SIGHUP): [`install_interrupt_cleanup`]
//!   starts a thread that waits for those signals, removes every registered
//!   staging directory and exits with 128 + the signal number (130 for
//!   Ctrl-C, 143 for SIGTERM);
//! - a death nothing can catch (SIGKILL, out of memory): the next run beside
//!   the same target removes staging directories whose process is gone
//!   ([`remove_stale`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Staging directories of this process not yet committed or removed.
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The registry, even if a thread panicked while holding it.
pub(super) fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records `dir` as a staging directory to remove on interruption.
pub(super) fn register(dir: &Path) {
    registry().push(dir.to_path_buf());
}

/// Forgets `dir` (committed or removed); the caller holds the registry.
pub(super) fn unregister(registry: &mut Vec<PathBuf>, dir: &Path) {
    registry.retain(|d| d != dir);
}

/// The name of the staging directory of `pid` for an output named `name`.
pub(super) fn staging_name(name: &str, pid: u32) -> String {
    format!(".{name}.partial-{pid}")
}

/// The process id in `entry` if it is a staging directory (or the aside
/// copy of a replaced output, `.partial-PID.old`) of an output named `name`.
fn staging_pid(entry: &str, name: &str) -> Option<u32> {
    let rest = entry.strip_prefix(&format!(".{name}.partial-"))?;
    let digits = rest.strip_suffix(".old").unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&pid| pid > 0)
}

/// Whether process `pid` exists (a process of another user counts).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Without a way to ask, every process is presumed alive.
#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// Removes, in `parent`, the staging directories of an output named `name`
/// left by processes that no longer exist. Directories of live processes,
/// and anything that is not a directory, are left alone. Returns the paths
/// removed.
pub fn remove_stale(parent: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = staging_pid(&file_name, name) else {
            continue;
        };
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if !is_dir || pid == std::process::id() || process_alive(pid) {
            continue;
        }
        if fs::remove_dir_all(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Starts the thread that cleans up on Ctrl-C, SIGTERM and SIGHUP. Call it
/// once, first thing in `main`, before any other thread starts: the signals
/// are blocked in the calling thread so that every thread started later
/// inherits the block and only the cleanup thread receives them.
#[cfg(unix)]
pub fn install_interrupt_cleanup() {
    // SAFETY: the set is initialised by sigemptyset before use, and
    // pthread_sigmask only changes this thread's signal mask.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is a valid, initialised signal set.
        while unsafe { libc::sigwait(&set, &mut sig) } != 0 {}
        let registry = registry();
        for dir in registry.iter() {
            let _ = fs::remove_dir_all(dir);
        }
        if registry.is_empty() {
            eprintln!("interrupted");
        } else {
            eprintln!("interrupted: no output written; staging directory removed");
        }
        // Exit while holding the registry, so that no commit starts.
        std::process::exit(128 + sig);
    });
}

/// Signals are not handled on this platform.
#[cfg(not(unix))]
pub fn install_interrupt_cleanup() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_recognised_exactly() {
        assert_eq!(staging_pid(".out.partial-42", "out"), Some(42));
        assert_eq!(staging_pid(".out.partial-42.old", "out"), Some(42));
        assert_eq!(staging_pid(".out.partial-", "out"), None);
        assert_eq!(staging_pid(".out.partial-4x", "out"), None);
        assert_eq!(staging_pid(".other.partial-42", "out"), None);
        assert_eq!(staging_pid("out.partial-42", "out"), None);
        assert_eq!(staging_name("out", 7), ".out.partial-7");
    }

    #[test]
    fn only_dead_processes_lose_their_staging_directory() {
        let tmp = tempfile::tempdir().unwrap();
        // Far above any pid_max (2^22), so no process has it.
        let dead = tmp.path().join(".out.partial-999999999");
        let live = tmp.path().join(staging_name("out", std::process::id()));
        let file = tmp.path().join(".out.partial-999999998");
        fs::create_dir(&dead).unwrap();
        fs::create_dir(&live).unwrap();
        fs::write(&file, "not a directory").unwrap();
        assert_eq!(remove_stale(tmp.path(), "out"), vec![dead.clone()]);
        assert!(!dead.exists() && live.exists() && file.exists());
    }
}
