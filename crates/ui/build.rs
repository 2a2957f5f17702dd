//! Rebuilds the crate when any file under `assets/` is added, removed or changed
//! (rust-embed alone notices only changes to the files it already embedded).

fn main() {
    println!("cargo:rerun-if-changed=assets");
}
