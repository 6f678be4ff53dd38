//! Rebuilds this crate when a migration is added: `sqlx::migrate!` embeds the folders' files,
//! but cargo only notices a new file if told to watch its folder.

fn main() {
    println!("cargo:rerun-if-changed=sqlite");
    println!("cargo:rerun-if-changed=postgres");
}
