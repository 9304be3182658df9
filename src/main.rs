//! The `apportion` binary: the command line over the library.

fn main() -> std::process::ExitCode {
    apportion::cli::main()
}
