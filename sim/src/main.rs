//! The `cutover` command-line tool.

fn main() -> std::process::ExitCode {
    cutover::cli::main()
}
