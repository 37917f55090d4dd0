use clap::Args;
use serde_json::json;

use crate::build_info::{BUILD_DATE, GIT_COMMIT, VERSION};

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(args: &VersionArgs) {
    if args.json {
        let facts = json!({ "version": VERSION, "commit": GIT_COMMIT, "build_date": BUILD_DATE });
        println!("{facts}");
    } else {
        println!("holdfast {VERSION}\ncommit:     {GIT_COMMIT}\nbuild date: {BUILD_DATE}");
    }
}
