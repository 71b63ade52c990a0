fn main() {
    println!("tour");
}
