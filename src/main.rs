fn main() {
    println!("seedctl {}", env!("CARGO_PKG_VERSION"));
}
