//! The `cutover` command-line tool.

mod cli;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so `cutover ... | head` would panic on the first
    // write after `head` exits. Restore the default: end quietly, like any
    // other command-line tool.
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread starts; it
    // only resets a signal disposition to the system default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Before any thread starts: Ctrl-C and SIGTERM remove staging directories.
    cutover::report::staging::install_interrupt_cleanup();
    cli::main()
}
