fn main() {
    for path in std::env::args().skip(1) {
        let p = qloop::Circuit::load(&path).unwrap().compile().unwrap();
        print!(
            "{}:{}/{} ",
            path.rsplit('/').next().unwrap(),
            p.num_passes(),
            p.num_steps()
        );
    }
    println!();
}
