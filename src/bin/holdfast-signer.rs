//! `holdfast-signer`: the vendor's tool for license keys. Its commands arrive with licensing.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "holdfast-signer",
    version = holdfast::build_info::LONG_VERSION,
    about = "Holdfast vendor tool: issues and inspects license keys"
)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
