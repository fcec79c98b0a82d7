//! The operator binary: `run` (the controller), `crd` (prints our CRD), `render -f FILE`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "blackfriday-operator",
    version,
    about = "Reconciles BlackFridayPipeline resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the BlackFridayPipeline CustomResourceDefinition as YAML.
    Crd,
    /// Print every object the operator would apply for a pipeline manifest (offline).
    Render {
        /// A YAML file holding a BlackFridayPipeline.
        #[arg(short = 'f', long = "file")]
        file: String,
    },
    /// Run the controller.
    Run(blackfriday_operator::run::RunArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", blackfriday_operator::crd::crd_yaml());
            std::process::ExitCode::SUCCESS
        }
        Command::Render { file } => match blackfriday_operator::render::render_file(&file) {
            Ok(yaml) => {
                print!("{yaml}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Run(args) => blackfriday_operator::run::main(args),
    }
}
