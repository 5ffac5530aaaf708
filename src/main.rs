fn main() {
    println!("relayctl: see --help");
}
