//! The `backprop` command (minimal for now): trains the lecture's network on the embedded digits.

fn main() {
    let run = || -> backprop::Result<()> {
        let (train, test) = backprop::data::mnist_10k()?.split_at(8000);
        let mut net: backprop::Network = backprop::Network::new(&[784, 30, 10])?;
        for r in net.train(&train, Some(&test), &backprop::Sgd::default())? {
            let t = r.test.expect("test data given");
            println!("Epoch {}: {} / {}", r.epoch - 1, t.correct, t.total);
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
