// Everything is in the library (`berth::cli::main` says why).
fn main() -> std::process::ExitCode {
    berth::cli::main()
}
